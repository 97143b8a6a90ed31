// `pnpm bench`: runs every benchmark (packages/*/bench/*.bench.ts and bench/*.bench.ts), each in its own
// process, prints one table of figures and ratios measured in this run, and writes bench/results.json.
// `pnpm bench --quick` runs small workloads (a smoke run); `pnpm bench <filter>` runs matching files only.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir, totalmem } from 'node:os'
import { join, relative } from 'node:path'
import { type BenchFigure, formatFigures } from './figures'

const root = join(import.meta.dirname, '..')
const flags = process.argv.slice(2).filter((argument) => argument.startsWith('--'))
const filters = process.argv.slice(2).filter((argument) => !argument.startsWith('--'))

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

const scratch = mkdtempSync(join(tmpdir(), 'vllm-tito-bench-'))
const figures: BenchFigure[] = []
const failures: string[] = []
try {
  for (const file of benchmarkFiles()) {
    const name = relative(root, file)
    const output = join(scratch, `${figures.length}-${Date.now()}.json`)
    process.stderr.write(`running ${name} …\n`)
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
          ...flags,
        ],
        { stdio: ['ignore', 'inherit', 'inherit'], cwd: root },
      )
      figures.push(...(JSON.parse(readFileSync(output, 'utf8')) as BenchFigure[]))
    } catch (error) {
      failures.push(`${name}: ${(error as Error).message.split('\n')[0]}`)
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true })
}

console.log(`\n${formatFigures(figures)}\n`)
const results = {
  date: new Date().toISOString(),
  machine: {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
  },
  node: process.version,
  quick: flags.includes('--quick'),
  figures,
  failures,
}
// only a full, unfiltered run replaces the figures the README quotes
if (filters.length === 0 && !results.quick) {
  writeFileSync(join(root, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`)
}
const missed = figures.filter((figure) => figure.meetsTarget === false)
if (missed.length > 0)
  console.log(
    `targets missed: ${missed.map((figure) => `${figure.benchmark} / ${figure.metric}`).join('; ')}`,
  )
if (failures.length > 0) {
  console.error(`benchmarks that failed to run:\n  ${failures.join('\n  ')}`)
  process.exit(1)
}
