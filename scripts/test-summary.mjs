// Prints `N passed, N failed[, N skipped]` summed over vitest's JSON report and pytest's JUnit XML report, and
// exits non-zero when any test or CI step failed. A missing report counts as a failure, so a run that executed
// no test is visible.
import { existsSync, readFileSync } from 'node:fs'

const [
  vitestReport = '.vitest-results.json',
  pytestReport = '.pytest-results.xml',
  failedStepsArgument = '0',
] = process.argv.slice(2)
const failedSteps = Number(failedStepsArgument)
let passed = 0
let failed = 0
let skipped = 0

if (existsSync(vitestReport)) {
  const report = JSON.parse(readFileSync(vitestReport, 'utf8'))
  passed += report.numPassedTests ?? 0
  failed += report.numFailedTests ?? 0
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0)
  // a file that failed to load has no tests but must still count
  for (const file of report.testResults ?? []) {
    if (file.status === 'failed' && (file.assertionResults ?? []).length === 0) failed += 1
  }
} else {
  failed += 1
  console.error(`no vitest report at ${vitestReport}`)
}

if (existsSync(pytestReport)) {
  // pytest --junitxml writes one <testsuite tests= failures= errors= skipped=> per run
  const xml = readFileSync(pytestReport, 'utf8')
  for (const match of xml.matchAll(/<testsuite\b([^>]*)>/g)) {
    const count = (name) => Number(new RegExp(`\\b${name}="(\\d+)"`).exec(match[1])?.[1] ?? 0)
    const suiteFailed = count('failures') + count('errors')
    passed += count('tests') - suiteFailed - count('skipped')
    failed += suiteFailed
    skipped += count('skipped')
  }
} else {
  failed += 1
  console.error(`no pytest report at ${pytestReport}`)
}

console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`)
process.exit(failed > 0 || failedSteps > 0 || passed === 0 ? 1 : 0)
