// Rollouts at scale: 4,096 concurrent rollouts (one chat call each) through runRollouts against mock-vllm in
// another process, non-streaming and streaming, in one run. Then the same rollout function called directly (a
// hand-built context with one VLLMClient per rollout, Promise.all, no runner) and through the runner, in
// alternating pairs, so the runner's own CPU per rollout is the median difference of runs measured side by side,
// never a stored number; CPU per rollout counts the rollouts that succeeded. The ids received are compared with the
// ids the server sampled (its vllm:generation_tokens_total). `--quick` runs 256 small rollouts.
import { VLLMClient } from '@vllm-tito/client'
import type { TokenRecord } from '@vllm-tito/spec'
import { type BenchFigure, type BenchOptions, runIfMain } from '../../../bench/figures'
import { spawnMockVllm } from '../../../bench/spawn-mock-vllm'
import type { RolloutContext, RolloutResult, RolloutTask } from '../src/rollout-types'
import { routingHeaders } from '../src/routing-headers'
import { runRollouts } from '../src/run-rollouts'
import { singleTurnRollout } from '../src/single-turn-rollout'

const MODEL = 'Qwen/Qwen3-8B'
const PAIRED_ROUNDS = 3

interface Measured {
  results: number
  failed: number
  verified: number
  /** Ids in the records received (every rollout's: the work the run did). */
  tokens: number
  cpuMs: number
  wallMs: number
}

interface MeasuredWithSampled extends Measured {
  /** Ids the server sampled during the run (its vllm:generation_tokens_total). */
  sampled: number
}

/** Runs `run` and adds the ids the server sampled meanwhile. */
async function withSampled(
  generationTokens: () => Promise<number>,
  run: () => Promise<Measured>,
): Promise<MeasuredWithSampled> {
  const before = await generationTokens()
  const measured = await run()
  return { ...measured, sampled: (await generationTokens()) - before }
}

function tasksFor(count: number): RolloutTask[] {
  return Array.from({ length: count }, (_, index) => ({ id: index, question: `rollout ${index}` }))
}

async function throughRunner(baseUrl: string, tasks: RolloutTask[], stream: boolean): Promise<Measured> {
  const results: RolloutResult[] = []
  const cpu = process.cpuUsage()
  const started = performance.now()
  for await (const result of runRollouts({
    tasks,
    rollout: singleTurnRollout(),
    baseUrl,
    modelId: MODEL,
    concurrency: tasks.length,
    stream,
    samplingParams: { logprobs: false },
  })) {
    results.push(result)
  }
  const outcomes = results.map((result) => ({ failed: result.status === 'failed', records: result.records }))
  return measure(outcomes, cpu, started)
}

/**
 * The same rollout function with no runner: a context built by hand around one VLLMClient per rollout (with the
 * same routing header), all rollouts at once with Promise.all — what a user would write without the runner.
 */
async function direct(baseUrl: string, tasks: RolloutTask[]): Promise<Measured> {
  const rollout = singleTurnRollout()
  const signal = new AbortController().signal
  const cpu = process.cpuUsage()
  const started = performance.now()
  const outcomes = await Promise.all(
    tasks.map(async (task, index) => {
      const rolloutId = `${task.id}/0`
      const client = new VLLMClient({
        baseUrl,
        defaultHeaders: routingHeaders(rolloutId, { header: 'X-Session-ID', dataParallelSize: null }),
      })
      const context: RolloutContext = {
        task,
        taskIndex: index,
        sampleIndex: 0,
        rolloutId,
        rolloutNumber: index,
        attempt: 0,
        signal,
        client: {
          chat: client.chat,
          completions: client.completions,
          tokenize: (input) => client.tokenize(input),
          records: [],
          firstRequest: null,
          calls: { streamed: 0, nonStreamed: 0 },
        },
        baseUrl,
        modelId: MODEL,
        stream: false,
        samplingParams: { logprobs: false },
      }
      try {
        return { failed: false, records: (await rollout(context)).records }
      } catch {
        return { failed: true, records: [] }
      }
    }),
  )
  return measure(outcomes, cpu, started)
}

function measure(
  outcomes: Array<{ failed: boolean; records: readonly TokenRecord[] }>,
  cpuBefore: NodeJS.CpuUsage,
  started: number,
): Measured {
  const cpu = process.cpuUsage(cpuBefore)
  let verified = 0
  let tokens = 0
  for (const outcome of outcomes) {
    for (const record of outcome.records) {
      if (record.verification.verified) verified += 1
      tokens += record.tokenIds?.length ?? 0
    }
  }
  return {
    results: outcomes.length,
    failed: outcomes.filter((outcome) => outcome.failed).length,
    verified,
    tokens,
    cpuMs: (cpu.user + cpu.system) / 1000,
    wallMs: performance.now() - started,
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right)
  return sorted[Math.floor(sorted.length / 2)]!
}

export default async function rolloutsScaleBenchmark({ quick }: BenchOptions): Promise<BenchFigure[]> {
  const rollouts = quick ? 256 : 4096
  const tokens = quick ? 32 : 128
  const server = await spawnMockVllm([
    '--policy',
    'random',
    '--random-tokens',
    String(tokens),
    '--seed',
    '11',
  ])
  const name = `rollouts: ${rollouts.toLocaleString('en-US')} concurrent x ${tokens} tokens`
  try {
    const tasks = tasksFor(rollouts)
    // warm-up: JIT, connections, the server's tokenizer cache
    await throughRunner(server.baseUrl, tasksFor(64), false)
    await direct(server.baseUrl, tasksFor(64))
    const sampled = () => server.generationTokens()
    const nonStreaming = await withSampled(sampled, () => throughRunner(server.baseUrl, tasks, false))
    const streaming = await withSampled(sampled, () => throughRunner(server.baseUrl, tasks, true))
    const peakRssMb = process.resourceUsage().maxRSS / 1024
    // direct and runner in alternating pairs: a change of load on the shared machine hits both sides alike
    const pairs: Array<{ direct: Measured; runner: Measured }> = []
    for (let round = 0; round < PAIRED_ROUNDS; round += 1) {
      const directRun = await direct(server.baseUrl, tasks)
      pairs.push({ direct: directRun, runner: await throughRunner(server.baseUrl, tasks, false) })
    }
    const perToken = (run: Measured) => (run.cpuMs * 1000) / Math.max(1, run.tokens)
    // per rollout that succeeded: a failed one did less work, and would make its side look cheaper
    const perRollout = (run: Measured) => (run.cpuMs * 1000) / Math.max(1, run.results - run.failed)
    const lost = rollouts - nonStreaming.results
    const lostStreaming = rollouts - streaming.results
    const directFailed = pairs.reduce((sum, pair) => sum + pair.direct.failed, 0)
    const pairedRunnerFailed = pairs.reduce((sum, pair) => sum + pair.runner.failed, 0)
    // a failed rollout's sampled ids count too: with one, the comparison cannot be made, and it fails
    const idsLost = nonStreaming.sampled - nonStreaming.tokens
    const idsLostStreaming = streaming.sampled - streaming.tokens
    return [
      {
        benchmark: name,
        metric: 'rollouts lost (non-streaming / streaming)',
        value: lost + lostStreaming,
        unit: `(${lost} / ${lostStreaming})`,
        target: '= 0',
        meetsTarget: lost === 0 && lostStreaming === 0,
        kind: 'check',
      },
      {
        benchmark: name,
        metric: 'rollouts failed (non-streaming / streaming / paired direct / paired runner)',
        value: nonStreaming.failed + streaming.failed + directFailed + pairedRunnerFailed,
        unit: `(${nonStreaming.failed} / ${streaming.failed} / ${directFailed} / ${pairedRunnerFailed})`,
        target: '= 0',
        meetsTarget: nonStreaming.failed + streaming.failed + directFailed + pairedRunnerFailed === 0,
        kind: 'check',
      },
      {
        benchmark: name,
        metric: 'token ids lost, server sampled - received (non-streaming / streaming)',
        value: idsLost + idsLostStreaming,
        unit: `(${idsLost} / ${idsLostStreaming} of ${nonStreaming.sampled.toLocaleString('en-US')} / ${streaming.sampled.toLocaleString('en-US')})`,
        target: '= 0',
        meetsTarget:
          idsLost === 0 && idsLostStreaming === 0 && nonStreaming.failed === 0 && streaming.failed === 0,
        kind: 'check',
      },
      {
        benchmark: name,
        metric: 'records verified (non-streaming / streaming)',
        value: nonStreaming.verified + streaming.verified,
        unit: `of ${(2 * rollouts).toLocaleString('en-US')} (${nonStreaming.verified} / ${streaming.verified})`,
        target: `= ${(2 * rollouts).toLocaleString('en-US')}`,
        meetsTarget: nonStreaming.verified === rollouts && streaming.verified === rollouts,
        kind: 'check',
      },
      { benchmark: name, metric: 'peak RSS (runner process)', value: peakRssMb, unit: 'MB' },
      {
        benchmark: name,
        metric: 'rollouts/s, non-streaming',
        value: (rollouts / nonStreaming.wallMs) * 1000,
        unit: '/s',
      },
      {
        benchmark: name,
        metric: 'rollouts/s, streaming',
        value: (rollouts / streaming.wallMs) * 1000,
        unit: '/s',
      },
      {
        benchmark: name,
        metric: 'client CPU per token, non-streaming',
        value: perToken(nonStreaming),
        unit: 'µs',
      },
      { benchmark: name, metric: 'client CPU per token, streaming', value: perToken(streaming), unit: 'µs' },
      {
        benchmark: name,
        metric: `CPU per rollout, runner (median of ${PAIRED_ROUNDS} paired runs)`,
        value: median(pairs.map((pair) => perRollout(pair.runner))),
        unit: 'µs',
      },
      {
        benchmark: name,
        metric: 'CPU per rollout, the rollout function called directly (median)',
        value: median(pairs.map((pair) => perRollout(pair.direct))),
        unit: 'µs',
      },
      {
        benchmark: name,
        metric: "runner's own CPU per rollout (median of the pairs' differences)",
        value: median(pairs.map((pair) => perRollout(pair.runner) - perRollout(pair.direct))),
        unit: 'µs',
      },
    ]
  } finally {
    await server.stop()
  }
}

await runIfMain(import.meta.url, rolloutsScaleBenchmark)
