// Rollouts at scale: 4,096 concurrent rollouts (one chat call each) through runRollouts against mock-vllm in
// another process, non-streaming and streaming, in one run. Next to them, the same rollout function called
// directly (one VLLMClient per rollout, Promise.all, no runner), so the runner's own overhead per rollout is the
// difference of the two measured here, never a stored number. `--quick` runs 256 small rollouts.
import { VLLMClient } from '@vllm-tito/client'
import type { TokenRecord } from '@vllm-tito/spec'
import { type BenchFigure, type BenchOptions, runIfMain } from '../../../bench/figures'
import { spawnMockVllm } from '../../../bench/spawn-mock-vllm'
import type { RolloutResult, RolloutTask } from '../src/rollout-types'
import { routingHeaders } from '../src/routing-headers'
import { runRollouts } from '../src/run-rollouts'
import { singleTurnRollout } from '../src/single-turn-rollout'

const MODEL = 'Qwen/Qwen3-8B'

interface Measured {
  results: number
  failed: number
  verified: number
  tokens: number
  cpuMs: number
  wallMs: number
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
  return measure(
    results.map((result) => ({ failed: result.status === 'failed', records: result.records })),
    cpu,
    started,
  )
}

/** The same single chat call per rollout with no runner: a user's own Promise.all over VLLMClient. */
async function direct(baseUrl: string, tasks: RolloutTask[]): Promise<Measured> {
  const cpu = process.cpuUsage()
  const started = performance.now()
  const outcomes = await Promise.all(
    tasks.map(async (task) => {
      const client = new VLLMClient({
        baseUrl,
        defaultHeaders: routingHeaders(`${task.id}/0`, { header: 'X-Session-ID', dataParallelSize: null }),
      })
      try {
        const records = await client.chat.create({
          model: MODEL,
          messages: [{ role: 'user', content: task.question }],
          return_token_ids: true,
        })
        return { failed: false, records }
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
    const nonStreaming = await throughRunner(server.baseUrl, tasks, false)
    const streaming = await throughRunner(server.baseUrl, tasks, true)
    const baseline = await direct(server.baseUrl, tasks)
    const peakRssMb = process.resourceUsage().maxRSS / 1024
    const lost = rollouts - nonStreaming.results
    const perToken = (run: Measured) => (run.cpuMs * 1000) / Math.max(1, run.tokens)
    const perRollout = (run: Measured) => (run.cpuMs * 1000) / Math.max(1, run.results)
    return [
      {
        benchmark: name,
        metric: 'rollouts lost (non-streaming / streaming)',
        value: lost + (rollouts - streaming.results),
        unit: `(${lost} / ${rollouts - streaming.results})`,
        target: '= 0',
        meetsTarget: lost === 0 && streaming.results === rollouts,
      },
      {
        benchmark: name,
        metric: 'rollouts failed (non-streaming / streaming / direct)',
        value: nonStreaming.failed + streaming.failed,
        unit: `(${nonStreaming.failed} / ${streaming.failed} / ${baseline.failed})`,
        target: '= 0',
        meetsTarget: nonStreaming.failed === 0 && streaming.failed === 0,
      },
      {
        benchmark: name,
        metric: 'records verified (non-streaming)',
        value: nonStreaming.verified,
        unit: `of ${rollouts}`,
        target: `= ${rollouts}`,
        meetsTarget: nonStreaming.verified === rollouts,
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
        metric: 'CPU per rollout, runner (non-streaming)',
        value: perRollout(nonStreaming),
        unit: 'µs',
      },
      {
        benchmark: name,
        metric: 'CPU per rollout, direct calls (no runner)',
        value: perRollout(baseline),
        unit: 'µs',
      },
      {
        benchmark: name,
        metric: "runner's own CPU per rollout (runner - direct)",
        value: perRollout(nonStreaming) - perRollout(baseline),
        unit: 'µs',
      },
      {
        benchmark: name,
        metric: 'runner CPU / direct CPU',
        value: nonStreaming.cpuMs / Math.max(1e-3, baseline.cpuMs),
        unit: 'x',
      },
    ]
  } finally {
    await server.stop()
  }
}

await runIfMain(import.meta.url, rolloutsScaleBenchmark)
