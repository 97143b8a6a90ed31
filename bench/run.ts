// `pnpm bench`: runs every benchmark (packages/*/bench/*.bench.ts and bench/*.bench.ts), each in its own
// process, prints one table of figures and ratios measured in this run, and writes bench/results.json.
// `pnpm bench --quick` runs small workloads (a smoke run); `pnpm bench <filter>` runs matching files only.
// Exit code (bench/verdict.ts): a full run fails on a missed target, a failed check or a benchmark that could not
// run; `--quick` fails on the last two only; `--report` only on a benchmark that could not run.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir, totalmem } from 'node:os'
import { join, relative } from 'node:path'
import { type BenchFigure, formatFigures } from './figures'
import { type BenchMode, benchMode, benchVerdict } from './verdict'

const root = join(import.meta.dirname, '..')
const flags = process.argv.slice(2).filter((argument) => argument.startsWith('--'))
const filters = process.argv.slice(2).filter((argument) => !argument.startsWith('--'))
let mode: BenchMode
try {
  mode = benchMode(flags)
} catch (error) {
  console.error((error as Error).message)
  process.exit(2)
}
// --report changes what gates, not what runs: the benchmarks see --quick only
const benchmarkFlags = flags.filter((flag) => flag === '--quick')

function benchmarkFiles(): string[] {
  const files: string[] = []
  for (const packageName of readdirSync(join(root, 'packages'))) {
    const dir = join(root, 'packages', packageName, 'bench')
    try {
      for (const file of readdirSync(dir)) if (file.endsWith('.bench.ts')) files.push(join(dir, file))
    } catch {
      // a package without benchmarks
    }
  }
  for (const file of readdirSync(join(root, 'bench')))
    if (file.endsWith('.bench.ts')) files.push(join(root, 'bench', file))
  return files.filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
}

const files = benchmarkFiles()
if (files.length === 0) {
  console.error(`pnpm bench: no benchmark file matches ${filters.join(', ')}`)
  process.exit(1)
}
const runStarted = performance.now()
const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`
const scratch = mkdtempSync(join(tmpdir(), 'vllm-tito-bench-'))
const figures: BenchFigure[] = []
const failures: string[] = []
try {
  for (const file of files) {
    const name = relative(root, file)
    const output = join(scratch, `${figures.length}-${Date.now()}.json`)
    process.stderr.write(`running ${name} …\n`)
    const started = performance.now()
    try {
      execFileSync(
        process.execPath,
        [
          '--expose-gc',
          '--conditions=@vllm-tito/source',
          '--import',
          'tsx',
          join(root, 'bench', 'run-one.ts'),
          file,
          output,
          ...benchmarkFlags,
        ],
        { stdio: ['ignore', 'inherit', 'inherit'], cwd: root },
      )
      figures.push(...(JSON.parse(readFileSync(output, 'utf8')) as BenchFigure[]))
      process.stderr.write(`${name}: ${seconds(started)}\n`)
    } catch (error) {
      // the benchmark's own error is on stderr above; this line names the file
      const status = (error as { status?: number | null }).status
      failures.push(`${name}: exited with code ${status ?? 'unknown'} after ${seconds(started)}`)
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true })
}

console.log(`\n${formatFigures(figures)}\n`)
const verdict = benchVerdict(figures, failures, mode)
const results = {
  date: new Date().toISOString(),
  machine: {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
  },
  node: process.version,
  quick: benchmarkFlags.includes('--quick'),
  // whether this run met every target and check (a full run's exit code 0)
  passed: verdict.exitCode === 0,
  durationSeconds: Math.round((performance.now() - runStarted) / 1000),
  figures,
  failures,
}
// only a full, unfiltered run replaces the figures the README quotes
if (filters.length === 0 && !results.quick) {
  writeFileSync(join(root, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`)
}
for (const line of verdict.lines) console.log(line)
console.log(
  `pnpm bench: ${files.length} benchmark file${files.length === 1 ? '' : 's'} in ${seconds(runStarted)}`,
)
process.exitCode = verdict.exitCode
