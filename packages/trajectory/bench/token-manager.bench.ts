/**
 * TokenManager benchmark: 1,000 turns × 1,000 tokens (1M tokens) built, then `tokenIds` and `lossMask` read
 * 1,000 times, against a faithful port of the Python `strands_vllm.TokenManager` (segments list, flattened
 * on every read) measured in the same run; plus 2× tokens / 1× tokens scaling and the build time alone.
 *
 * Run: `npx tsx --conditions=@vllm-tito/source packages/trajectory/bench/token-manager.bench.ts [--quick]`
 */
import {
  type BenchFigure,
  type BenchOptions,
  medianCpuMs,
  medianCpuRatio,
  runIfMain,
} from '../../../bench/figures'
import { TokenManager } from '../src/token-manager'

/**
 * A direct port of the Python TokenManager: each add stores a segment `(ids, logprobs, is_output)`
 * (empty adds ignored); `token_ids`, `loss_mask` and `logprobs` flatten every segment on each access, and
 * logprobs are made to fit each segment's length (missing entries become null).
 */
class PythonPortTokenManager {
  segments: Array<{ ids: number[]; logprobs: Array<number | null> | null; isOutput: boolean }> = []

  addPrompt(ids: number[], logprobs: Array<number | null> | null = null): void {
    if (ids.length === 0) return
    this.segments.push({ ids: [...ids], logprobs: logprobs ? [...logprobs] : null, isOutput: false })
  }

  addResponse(ids: number[], logprobs: Array<number | null> | null = null): void {
    if (ids.length === 0) return
    this.segments.push({ ids: [...ids], logprobs: logprobs ? [...logprobs] : null, isOutput: true })
  }

  get tokenIds(): number[] {
    const result: number[] = []
    for (const segment of this.segments) for (const id of segment.ids) result.push(id)
    return result
  }

  get lossMask(): number[] {
    const result: number[] = []
    for (const segment of this.segments) {
      const mask = segment.isOutput ? 1 : 0
      for (let index = 0; index < segment.ids.length; index += 1) result.push(mask)
    }
    return result
  }

  get logprobs(): Array<number | null> {
    const result: Array<number | null> = []
    for (const segment of this.segments) {
      for (let index = 0; index < segment.ids.length; index += 1)
        result.push(segment.logprobs?.[index] ?? null)
    }
    return result
  }

  get length(): number {
    let total = 0
    for (const segment of this.segments) total += segment.ids.length
    return total
  }
}

interface Workload {
  turns: number
  prompts: number[][]
  responses: number[][]
  responseLogprobs: number[][]
}

/** Distinct turn contents, cycled: token values do not change the cost, and a small input heap keeps GC quiet. */
const DISTINCT_TURNS = 16

/** Per turn: 200 prompt-suffix tokens (tool result) and 800 response tokens with logprobs. */
function makeWorkload(turns: number, tokensPerTurn: number): Workload {
  const promptLength = Math.floor(tokensPerTurn / 5)
  const responseLength = tokensPerTurn - promptLength
  const workload: Workload = { turns, prompts: [], responses: [], responseLogprobs: [] }
  for (let turn = 0; turn < DISTINCT_TURNS; turn += 1) {
    workload.prompts.push(Array.from({ length: promptLength }, (_, index) => (turn * 7919 + index) % 151_000))
    workload.responses.push(
      Array.from({ length: responseLength }, (_, index) => (turn * 104_729 + index) % 151_000),
    )
    workload.responseLogprobs.push(Array.from({ length: responseLength }, (_, index) => -((index % 97) / 10)))
  }
  return workload
}

interface ManagerLike {
  addPrompt(ids: number[], logprobs?: Array<number | null> | null): void
  addResponse(ids: number[], logprobs?: Array<number | null> | null): void
  readonly tokenIds: readonly number[]
  readonly lossMask: readonly number[]
}

let sink = 0

/** Port reads measured per run; the per-read cost is then multiplied out to the full read count. */
const PORT_SAMPLE_READS = 20

/** Builds the sequence, then reads `tokenIds` and `lossMask` `reads` times (consuming each result). */
function buildAndRead(manager: ManagerLike, workload: Workload, reads: number): void {
  for (let turn = 0; turn < workload.turns; turn += 1) {
    const content = turn % DISTINCT_TURNS
    manager.addPrompt(workload.prompts[content]!)
    manager.addResponse(workload.responses[content]!, workload.responseLogprobs[content]!)
  }
  for (let read = 0; read < reads; read += 1) {
    const ids = manager.tokenIds
    const mask = manager.lossMask
    sink += ids.length + mask[mask.length - 1]!
  }
}

export default async function benchmark(options: BenchOptions = {}): Promise<BenchFigure[]> {
  const turns = options.quick ? 100 : 1000
  const tokensPerTurn = 1000
  const reads = options.quick ? 100 : 1000
  const tokens = turns * tokensPerTurn
  const label = `trajectory: ${turns.toLocaleString('en-US')} turns × ${tokensPerTurn.toLocaleString('en-US')} tokens`
  const workload = makeWorkload(turns, tokensPerTurn)
  const doubled = makeWorkload(turns * 2, tokensPerTurn)

  // warm the JIT on both sizes first, so the first measured figure is not the one paying for compilation
  for (let round = 0; round < 3; round += 1) {
    buildAndRead(new TokenManager(), workload, reads)
    buildAndRead(new TokenManager(), doubled, reads)
  }
  const buildMs = await medianCpuMs(() => buildAndRead(new TokenManager(), workload, 0))
  const readHeavyMs = await medianCpuMs(() => buildAndRead(new TokenManager(), workload, reads))
  // every port read re-flattens all tokens (a fixed cost per read, ~60 ms at 1M tokens): 1,000 measured reads
  // would take a minute, so the per-read cost is measured over a sample and multiplied out
  const portBuildMs = await medianCpuMs(() => buildAndRead(new PythonPortTokenManager(), workload, 0), 3)
  const portSampleMs = await medianCpuMs(
    () => buildAndRead(new PythonPortTokenManager(), workload, PORT_SAMPLE_READS),
    3,
  )
  const portPerReadMs = Math.max(0, portSampleMs - portBuildMs) / PORT_SAMPLE_READS
  const portReadHeavyMs = portBuildMs + portPerReadMs * reads
  const speedup = portReadHeavyMs / readHeavyMs
  // scaling is a ratio of two noisy CPU times: measure it in alternating pairs (each side repeated to a sample of
  // at least 200 ms), not as a ratio of two medians
  const scaling = await medianCpuRatio(
    () => buildAndRead(new TokenManager(), doubled, reads),
    () => buildAndRead(new TokenManager(), workload, reads),
    options.quick ? 5 : 21,
  )
  const buildScaling = await medianCpuRatio(
    () => buildAndRead(new TokenManager(), doubled, 0),
    () => buildAndRead(new TokenManager(), workload, 0),
    options.quick ? 5 : 21,
  )
  if (sink < 0) console.log(sink)

  return [
    {
      benchmark: label,
      metric: `build ${(tokens / 1e6).toLocaleString('en-US')}M tokens (cpu)`,
      value: buildMs,
      unit: 'ms',
      ...(options.quick ? {} : { target: '< 100 ms', meetsTarget: buildMs < 100 }),
    },
    { benchmark: label, metric: `build + ${reads} reads (cpu)`, value: readHeavyMs, unit: 'ms' },
    {
      benchmark: label,
      metric: 'Python port: one read of tokenIds + lossMask (cpu)',
      value: portPerReadMs,
      unit: 'ms',
    },
    {
      benchmark: label,
      metric: `Python port: build + ${reads} reads (cpu; ${PORT_SAMPLE_READS} reads measured)`,
      value: portReadHeavyMs,
      unit: 'ms',
    },
    {
      benchmark: label,
      metric: 'speed-up vs Python port (read-heavy)',
      value: speedup,
      unit: 'x',
      target: '>= 10x',
      meetsTarget: speedup >= 10,
    },
    {
      benchmark: label,
      metric: '2x tokens / 1x tokens (main-thread cpu)',
      value: scaling,
      unit: 'x',
      // a quick run is too small for a stable ratio: no target there. Made stable by main-thread CPU time (the
      // wall clock counted other jobs' time: 2.24-2.59 on this shared machine) over samples of at least 200 ms
      // (shorter ones carried the thread clock's tick lag): 2.00-2.14 in six runs, three with a core kept busy
      ...(options.quick ? {} : { target: '<= 2.2 (linear ~2.0)', meetsTarget: scaling <= 2.2 }),
    },
    {
      benchmark: label,
      metric: '2x tokens / 1x tokens, build only (main-thread cpu)',
      value: buildScaling,
      unit: 'x',
    },
  ]
}

void runIfMain(import.meta.url, benchmark)
