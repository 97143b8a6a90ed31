// The scale run with `stream: false` next to streaming, in one run: many concurrent rollouts against mock-vllm in
// its own process, read by VLLMClient either as an SSE stream (`chat.stream().final()`) or as one JSON body
// (`chat.create()`, what `VLLMModel({ stream: false })` and Agent Lightning's gateway use). Rounds alternate
// streaming / non-streaming so that a slower stretch of a shared machine lands on both modes alike.
import { VLLMClient } from '@vllm-tito/client'
import type { ChatRequest, TokenRecord } from '@vllm-tito/spec'
import { type BenchFigure, type BenchOptions, runIfMain } from './figures'
import { quantile, spawnMockVllm } from './spawn-mock-vllm'

const MODEL = 'Qwen/Qwen3-8B'

type Mode = 'streaming' | 'non-streaming'

interface ModeTotals {
  cpuMs: number
  ids: number
  records: TokenRecord[]
  failures: number
  latenciesMs: number[]
  peakRssMb: number
}

function requestFor(index: number, tokens: number, stream: boolean): ChatRequest {
  return {
    model: MODEL,
    messages: [{ role: 'user', content: `rollout ${index}` }],
    max_tokens: tokens + 16,
    stream,
    return_token_ids: true,
    ...(stream && { stream_options: { include_usage: true } }),
  }
}

/**
 * Runs `count` rollouts at once; adds their CPU, ids, latencies and the round's peak RSS to `totals`. RSS is the
 * process's: heap one mode grew is still there in the other's rounds, so the two peaks bound each mode from
 * above rather than separate them.
 */
async function runRound(
  count: number,
  rollout: (index: number) => Promise<TokenRecord[]>,
  totals: ModeTotals,
): Promise<void> {
  let peakRss = process.memoryUsage.rss()
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss())
  }, 10)
  const cpuBefore = process.cpuUsage()
  await Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const started = performance.now()
      try {
        const records = await rollout(index)
        totals.latenciesMs.push(performance.now() - started)
        totals.records.push(...records)
        for (const record of records) totals.ids += record.tokenIds?.length ?? 0
      } catch {
        totals.failures += 1
      }
    }),
  )
  const cpu = process.cpuUsage(cpuBefore)
  clearInterval(sampler)
  totals.cpuMs += (cpu.user + cpu.system) / 1000
  totals.peakRssMb = Math.max(totals.peakRssMb, Math.max(peakRss, process.memoryUsage.rss()) / 2 ** 20)
}

function emptyTotals(): ModeTotals {
  return { cpuMs: 0, ids: 0, records: [], failures: 0, latenciesMs: [], peakRssMb: 0 }
}

export default async function scaleNonStreamingBenchmark({ quick }: BenchOptions): Promise<BenchFigure[]> {
  const rolloutsPerRound = quick ? 32 : 256
  const rounds = quick ? 2 : 4
  const tokens = quick ? 256 : 2048
  const server = await spawnMockVllm([
    '--policy',
    'random',
    '--random-tokens',
    String(tokens),
    '--seed',
    '11',
  ])
  const name = `scale, stream: false vs streaming: ${rolloutsPerRound * rounds} rollouts x ${tokens} tokens`
  try {
    const client = new VLLMClient({ baseUrl: server.baseUrl })
    const rollout: Record<Mode, (index: number) => Promise<TokenRecord[]>> = {
      streaming: (index) => client.chat.stream(requestFor(index, tokens, true)).final(),
      'non-streaming': (index) => client.chat.create(requestFor(index, tokens, false)),
    }
    const totals: Record<Mode, ModeTotals> = { streaming: emptyTotals(), 'non-streaming': emptyTotals() }
    // warm-up of both paths (JIT, keep-alive sockets, the server's tokenizer cache), not counted
    await runRound(8, rollout.streaming, emptyTotals())
    await runRound(8, rollout['non-streaming'], emptyTotals())
    for (let round = 0; round < rounds; round += 1) {
      const order: Mode[] = round % 2 === 0 ? ['streaming', 'non-streaming'] : ['non-streaming', 'streaming']
      for (const mode of order) await runRound(rolloutsPerRound, rollout[mode], totals[mode])
    }
    return figuresFor(name, rolloutsPerRound * rounds, totals)
  } finally {
    await server.stop()
  }
}

function figuresFor(name: string, rollouts: number, totals: Record<Mode, ModeTotals>): BenchFigure[] {
  const figures: BenchFigure[] = []
  const cpuPerToken = (mode: Mode) => (totals[mode].cpuMs * 1000) / Math.max(1, totals[mode].ids)
  for (const mode of ['streaming', 'non-streaming'] as const) {
    const { records, failures, ids, latenciesMs, peakRssMb } = totals[mode]
    const verified = records.filter((record) => record.verification.verified).length
    // what the server says it sampled (`usage.completion_tokens` of each reply): a shortfall is ids lost
    const expectedIds = records.reduce((sum, record) => sum + (record.usage?.completionTokens ?? 0), 0)
    figures.push(
      {
        benchmark: name,
        metric: `${mode}: rollouts verified`,
        value: verified,
        unit: `of ${rollouts}`,
        target: `= ${rollouts}`,
        meetsTarget: verified === rollouts && failures === 0,
      },
      {
        benchmark: name,
        metric: `${mode}: token ids received`,
        value: ids,
        unit: `of ${expectedIds}`,
        target: `= ${expectedIds}`,
        meetsTarget: ids === expectedIds,
      },
      { benchmark: name, metric: `${mode}: client CPU per token`, value: cpuPerToken(mode), unit: 'µs' },
      { benchmark: name, metric: `${mode}: latency p50`, value: quantile(latenciesMs, 0.5), unit: 'ms' },
      { benchmark: name, metric: `${mode}: latency p99`, value: quantile(latenciesMs, 0.99), unit: 'ms' },
      { benchmark: name, metric: `${mode}: peak RSS during its rounds`, value: peakRssMb, unit: 'MB' },
    )
  }
  const ratio = cpuPerToken('non-streaming') / cpuPerToken('streaming')
  figures.push({
    benchmark: name,
    metric: 'client CPU per token, stream: false / streaming',
    value: ratio,
    unit: 'x',
    target: '<= 0.2x',
    meetsTarget: ratio <= 0.2,
  })
  return figures
}

runIfMain(import.meta.url, scaleNonStreamingBenchmark)
