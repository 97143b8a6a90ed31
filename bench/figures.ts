/**
 * The shared shape of benchmark output. Every package benchmark (`packages/<name>/bench/*.bench.ts`) default-
 * exports `async (options) => BenchFigure[]`; `pnpm bench` runs them all in one process tree and prints one
 * table. Ratios are measured against a baseline run in the same process, never against stored numbers.
 */
export interface BenchFigure {
  /** Which benchmark, e.g. `client: 32k-token stream`. */
  benchmark: string
  /** What was measured, e.g. `cpu time / floor`. */
  metric: string
  /** The measured value. */
  value: number
  /** Unit of `value`, e.g. `ms`, `x`, `ops/s`, `MB`. */
  unit: string
  /** The target in words, e.g. `<= 1.25x`, when there is one. */
  target?: string
  /** Whether the target was met, when there is one. */
  meetsTarget?: boolean
  /**
   * `check`: a correctness check (every rollout completed, 0 ids lost, every record verified), which gates every
   * run, quick ones too. Without it a figure with a target is a performance target, which gates a full run only.
   */
  kind?: 'check'
}

/** Options every benchmark accepts. `quick` shrinks the workload for smoke runs in CI. */
export interface BenchOptions {
  quick?: boolean
}

export type Benchmark = (options: BenchOptions) => Promise<BenchFigure[]>

/** Prints figures as an aligned table. */
export function formatFigures(figures: BenchFigure[]): string {
  const rows = figures.map((figure) => [
    figure.benchmark,
    figure.metric,
    `${formatNumber(figure.value)} ${figure.unit}`,
    figure.target ?? '',
    metCell(figure),
  ])
  const header = ['benchmark', 'metric', 'value', 'target', 'met']
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  )
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ')
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n')
}

/** `yes`/`NO` for a performance target, `ok`/`FAILED` for a correctness check, empty without a target. */
function metCell(figure: BenchFigure): string {
  if (figure.meetsTarget === undefined) return ''
  if (figure.kind === 'check') return figure.meetsTarget ? 'ok' : 'FAILED'
  return figure.meetsTarget ? 'yes' : 'NO'
}

export function formatNumber(value: number): string {
  if (Number.isInteger(value)) return value.toLocaleString('en-US')
  return Math.abs(value) >= 100
    ? value.toFixed(0)
    : Math.abs(value) >= 1
      ? value.toFixed(2)
      : value.toPrecision(3)
}

/**
 * Median of CPU-time samples: runs `work` `repeats` times (after one warm-up) and returns the median ms.
 * When the process runs with `--expose-gc` (as `pnpm bench` starts it), the heap is collected before each
 * sample, so a sample pays for its own garbage and not for what earlier samples left behind.
 */
export async function medianCpuMs(work: () => unknown | Promise<unknown>, repeats = 5): Promise<number> {
  const collectGarbage = (globalThis as { gc?: () => void }).gc
  await work()
  const samples: number[] = []
  for (let index = 0; index < repeats; index += 1) {
    collectGarbage?.()
    const before = process.cpuUsage()
    await work()
    const used = process.cpuUsage(before)
    samples.push((used.user + used.system) / 1000)
  }
  samples.sort((left, right) => left - right)
  return samples[Math.floor(samples.length / 2)]!
}

/**
 * A sample should run at least this long. Linux brings a running thread's own CPU time (process.threadCpuUsage)
 * up to date only at a scheduler tick or a switch, so a reading can miss a few ms (up to 3.5 ms of a 5 ms loop
 * measured here); over 200 ms that is under 2 %, and the median over rounds evens it out. The process's clock
 * (process.cpuUsage) has no such lag.
 */
const MIN_SAMPLE_MS = 200

/** How many runs of `work` make one sample of at least MIN_SAMPLE_MS (runs it once, on the wall clock). */
async function runsPerSample(work: () => unknown | Promise<unknown>): Promise<number> {
  const started = performance.now()
  await work()
  const ms = performance.now() - started
  return Math.min(1000, Math.max(1, Math.ceil(MIN_SAMPLE_MS / Math.max(ms, 0.01))))
}

/**
 * CPU milliseconds the main thread spent per run of `work` (process.threadCpuUsage), over `runs` runs after a
 * garbage collection when `--expose-gc` is on. Neither the process's CPU time (which also counts GC helper threads
 * still sweeping an earlier run's garbage) nor the wall clock (which counts the time another job on a shared
 * machine held the core) is the work's own.
 */
export async function mainThreadCpuMs(work: () => unknown | Promise<unknown>, runs = 1): Promise<number> {
  return (await cpuSample(work, runs)).thread
}

/**
 * Median of `numerator / denominator` main-thread CPU-time ratios, the two measured in alternation (one pair per
 * round, after one warm-up pair, the pair's order swapped every round), so drift in machine load hits both sides
 * alike and neither side always runs second. A side shorter than MIN_SAMPLE_MS runs several times per sample.
 */
export async function medianCpuRatio(
  numerator: () => unknown | Promise<unknown>,
  denominator: () => unknown | Promise<unknown>,
  rounds = 9,
): Promise<number> {
  const numeratorRuns = await runsPerSample(numerator)
  const denominatorRuns = await runsPerSample(denominator)
  const ratios: number[] = []
  for (let round = 0; round < rounds; round += 1) {
    if (round % 2 === 0) {
      const numeratorMs = await mainThreadCpuMs(numerator, numeratorRuns)
      ratios.push(numeratorMs / (await mainThreadCpuMs(denominator, denominatorRuns)))
    } else {
      const denominatorMs = await mainThreadCpuMs(denominator, denominatorRuns)
      ratios.push((await mainThreadCpuMs(numerator, numeratorRuns)) / denominatorMs)
    }
  }
  ratios.sort((left, right) => left - right)
  return ratios[Math.floor(ratios.length / 2)]!
}

/** CPU milliseconds per run: the main thread's, and the whole process's (V8's GC helper threads too). */
export interface CpuSample {
  thread: number
  process: number
}

/** Both clocks per run of `work`, over `runs` runs after a garbage collection when `--expose-gc` is on. */
export async function cpuSample(work: () => unknown | Promise<unknown>, runs = 1): Promise<CpuSample> {
  ;(globalThis as { gc?: () => void }).gc?.()
  const processBefore = process.cpuUsage()
  const threadBefore = process.threadCpuUsage()
  for (let run = 0; run < runs; run += 1) await work()
  const thread = process.threadCpuUsage(threadBefore)
  const used = process.cpuUsage(processBefore)
  return {
    thread: (thread.user + thread.system) / 1000 / runs,
    process: (used.user + used.system) / 1000 / runs,
  }
}

/**
 * Times every workload once per round (both clocks per run, after a GC; a workload shorter than MIN_SAMPLE_MS
 * runs several times per sample), in an order rotated round by round so none always runs after the same one (and
 * pays for its garbage), after `warmUp` warm-up rounds. Ratios are then taken within a round
 * (`medianOverRounds`), so a change of load on a shared machine hits both sides alike.
 */
export async function rotatedRounds<Name extends string>(
  workloads: Record<Name, () => unknown | Promise<unknown>>,
  rounds: number,
  warmUp = 1,
): Promise<Array<Record<Name, CpuSample>>> {
  const names = Object.keys(workloads) as Name[]
  for (let round = 1; round < warmUp; round += 1) for (const name of names) await workloads[name]()
  // the last warm-up round also sizes the samples
  const runs = {} as Record<Name, number>
  for (const name of names) runs[name] = await runsPerSample(workloads[name])
  const samples: Array<Record<Name, CpuSample>> = []
  for (let round = 0; round < rounds; round += 1) {
    const sample = {} as Record<Name, CpuSample>
    for (let position = 0; position < names.length; position += 1) {
      const name = names[(round + position) % names.length]!
      sample[name] = await cpuSample(workloads[name], runs[name])
    }
    samples.push(sample)
  }
  return samples
}

/** The median over rounds of a figure computed within each round. */
export function medianOverRounds<Sample>(
  rounds: readonly Sample[],
  figure: (sample: Sample) => number,
): number {
  const values = rounds.map(figure).sort((left, right) => left - right)
  return values[Math.floor(values.length / 2)]!
}

/** Runs a benchmark module directly (`tsx --conditions=@vllm-tito/source file.bench.ts`) and prints its table. */
export async function runIfMain(importMetaUrl: string, benchmark: Benchmark): Promise<void> {
  const { pathToFileURL } = await import('node:url')
  if (process.argv[1] && importMetaUrl === pathToFileURL(process.argv[1]).href) {
    const figures = await benchmark({ quick: process.argv.includes('--quick') })
    console.log(formatFigures(figures))
  }
}
