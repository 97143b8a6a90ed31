// Prints `N passed, N failed[, N skipped]` from vitest's JSON report and exits non-zero when any test or
// CI step failed. A missing report counts as a failure, so a run that executed no test is visible.
import { existsSync, readFileSync } from 'node:fs'

const [reportPath = '.vitest-results.json', failedStepsArgument = '0'] = process.argv.slice(2)
const failedSteps = Number(failedStepsArgument)
let passed = 0
let failed = 0
let skipped = 0
if (existsSync(reportPath)) {
  const report = JSON.parse(readFileSync(reportPath, 'utf8'))
  passed = report.numPassedTests ?? 0
  failed = report.numFailedTests ?? 0
  skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0)
  // a file that failed to load has no tests but must still count
  for (const file of report.testResults ?? []) {
    if (file.status === 'failed' && (file.assertionResults ?? []).length === 0) failed += 1
  }
} else {
  failed = 1
  console.error(`no test report at ${reportPath}`)
}
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`)
process.exit(failed > 0 || failedSteps > 0 || passed === 0 ? 1 : 0)
