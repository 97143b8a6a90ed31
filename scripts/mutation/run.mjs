// `pnpm test:mutation [group ...] [stryker options]`: runs Stryker once per group (all groups when none is named),
// prints each group's per-file score table, and exits non-zero when Stryker fails or a file scores below the target.
// `pnpm test:mutation --table [group ...]` only prints the tables of the last reports. See docs/mutation-testing.md.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { MUTATION_GROUPS } from './groups.mjs'
import { belowTarget, markdownTable, scoreRows, TARGET_SCORE } from './score-table.mjs'

const repository = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const args = process.argv.slice(2).filter((arg) => arg !== '--')
const tableOnly = args.includes('--table')
const groups = args.filter((arg) => !arg.startsWith('-') && arg in MUTATION_GROUPS)
const unknown = args.filter((arg) => !arg.startsWith('-') && !(arg in MUTATION_GROUPS))
const strykerOptions = args.filter((arg) => arg.startsWith('-') && arg !== '--table')
if (unknown.length > 0) {
  console.error(
    `unknown mutation group ${unknown.join(', ')}: the groups are ${Object.keys(MUTATION_GROUPS).join(', ')}`,
  )
  process.exit(2)
}

let failed = false
for (const group of groups.length > 0 ? groups : Object.keys(MUTATION_GROUPS)) {
  if (!tableOnly) {
    console.log(`\n== mutation group ${group}: ${MUTATION_GROUPS[group].summary}`)
    const run = spawnSync('pnpm', ['exec', 'stryker', 'run', ...strykerOptions], {
      cwd: repository,
      stdio: 'inherit',
      env: { ...process.env, MUTATION_GROUP: group, MUTATION_REPOSITORY: repository },
    })
    if (run.status !== 0) {
      console.error(`stryker failed for group ${group} (exit ${run.status ?? run.signal})`)
      failed = true
      continue
    }
  }
  const reportFile = join(repository, 'reports/mutation', `${group}.json`)
  if (!existsSync(reportFile)) {
    console.error(`no report for group ${group}: run \`pnpm test:mutation ${group}\` first`)
    failed = true
    continue
  }
  const rows = scoreRows(JSON.parse(readFileSync(reportFile, 'utf8')))
  console.log(`\n${group}:\n${markdownTable(rows)}`)
  const low = belowTarget(rows)
  if (low.length > 0) {
    console.error(
      `below ${TARGET_SCORE} %: ${low.map((row) => `${row.file} (${row.score.toFixed(1)} %)`).join(', ')}`,
    )
    failed = true
  }
}
process.exit(failed ? 1 : 0)
