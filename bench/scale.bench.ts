// Scale: many concurrent streaming rollouts against mock-vllm running in a separate process. Measured side by
// side in one run: a bare floor reader (fetch + drain bytes, no parsing) and VLLMClient, at the same
// concurrency, so "latency added by the client" is the difference of their latency quantiles.
import { VLLMClient } from '@vllm-tito/client'
import type { ChatRequest, TokenRecord } from '@vllm-tito/spec'
import { type BenchFigure, type BenchOptions, runIfMain } from './figures'
import { quantile, spawnMockVllm } from './spawn-mock-vllm'

const MODEL = 'Qwen/Qwen3-8B'

interface RunResult {
  latenciesMs: number[]
  cpuMs: number
  records: TokenRecord[]
  failures: number
}

function requestFor(index: number, tokens: number): ChatRequest {
  return {
    model: MODEL,
    messages: [{ role: 'user', content: `rollout ${index}` }],
    max_tokens: tokens + 16,
    stream: true,
    return_token_ids: true,
    stream_options: { include_usage: true },
  }
}

async function runConcurrently(
  count: number,
  rollout: (index: number) => Promise<TokenRecord[]>,
): Promise<RunResult> {
  const latenciesMs: number[] = []
  const records: TokenRecord[] = []
  let failures = 0
  const cpuBefore = process.cpuUsage()
  await Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const started = performance.now()
      try {
        records.push(...(await rollout(index)))
        latenciesMs.push(performance.now() - started)
      } catch {
        failures += 1
      }
    }),
  )
  const cpu = process.cpuUsage(cpuBefore)
  return { latenciesMs, cpuMs: (cpu.user + cpu.system) / 1000, records, failures }
}

export default async function scaleBenchmark({ quick }: BenchOptions): Promise<BenchFigure[]> {
  const rollouts = quick ? 64 : 512
  const tokens = quick ? 256 : 2048
  const server = await spawnMockVllm(['--policy', 'random', '--random-tokens', String(tokens), '--seed', '7'])
  const name = `scale: ${rollouts} rollouts x ${tokens} tokens`
  try {
    // default retries: a keep-alive socket the server closes just as it is reused resets before the first byte,
    // which the client retries, as it would in production
    const client = new VLLMClient({ baseUrl: server.baseUrl })
    const rolloutWithClient = (index: number) => client.chat.stream(requestFor(index, tokens)).final()
    const post = (index: number) =>
      fetch(`${server.baseUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(requestFor(index, tokens)),
      })
    // the drain floor reads every byte and parses nothing: the closest a client gets to the server's send time
    const rolloutWithFloor = async (index: number) => {
      const response = await post(index)
      for await (const _ of response.body!) {
        // drain
      }
      return []
    }
    // the parse floor does the least any id-collecting client must: decode, split lines, JSON.parse, push ids
    const rolloutWithParseFloor = async (index: number) => {
      const response = await post(index)
      const decoder = new TextDecoder()
      const ids: number[] = []
      let pending = ''
      for await (const bytes of response.body!) {
        const lines = (pending + decoder.decode(bytes, { stream: true })).split('\n')
        pending = lines.pop() ?? ''
        for (const line of lines) {
          if (!line.startsWith('data: {')) continue
          const chunk = JSON.parse(line.slice(6)) as { choices: Array<{ token_ids?: number[] | null }> }
          for (const id of chunk.choices[0]?.token_ids ?? []) ids.push(id)
        }
      }
      return []
    }
    await runConcurrently(8, rolloutWithClient) // warm-up: JIT, connections, tokenizer cache in the server
    const measured = await runConcurrently(rollouts, rolloutWithClient)
    const peakRssMb = process.resourceUsage().maxRSS / 1024
    const floor = await runConcurrently(rollouts, rolloutWithFloor)
    const parseFloor = await runConcurrently(rollouts, rolloutWithParseFloor)

    const totalIds = measured.records.reduce((sum, record) => sum + (record.tokenIds?.length ?? 0), 0)
    const idsLost = measured.records.reduce(
      (sum, record) =>
        sum + Math.max(0, (record.usage?.completionTokens ?? 0) - (record.tokenIds?.length ?? 0)),
      0,
    )
    const verified = measured.records.filter((record) => record.verification.verified).length
    const completed = measured.records.length
    const addedP50 = quantile(measured.latenciesMs, 0.5) - quantile(floor.latenciesMs, 0.5)
    const addedP99 = quantile(measured.latenciesMs, 0.99) - quantile(floor.latenciesMs, 0.99)
    return [
      {
        benchmark: name,
        metric: 'rollouts completed',
        value: completed,
        unit: `of ${rollouts}`,
        target: `= ${rollouts}`,
        meetsTarget: completed === rollouts && measured.failures === 0,
        kind: 'check',
      },
      {
        benchmark: name,
        metric: 'floor rollouts failed (drain / parse)',
        value: floor.failures + parseFloor.failures,
        unit: `(${floor.failures} / ${parseFloor.failures})`,
      },
      {
        benchmark: name,
        metric: 'records verified',
        value: verified,
        unit: `of ${completed}`,
        target: `= ${completed}`,
        meetsTarget: verified === completed,
        kind: 'check',
      },
      {
        benchmark: name,
        metric: 'token ids lost',
        value: idsLost,
        unit: 'ids',
        target: '= 0',
        meetsTarget: idsLost === 0,
        kind: 'check',
      },
      { benchmark: name, metric: 'token ids received', value: totalIds, unit: 'ids' },
      {
        benchmark: name,
        metric: 'client CPU per token',
        value: (measured.cpuMs * 1000) / Math.max(1, totalIds),
        unit: 'µs',
      },
      {
        benchmark: name,
        metric: 'drain-floor CPU per token',
        value: (floor.cpuMs * 1000) / Math.max(1, totalIds),
        unit: 'µs',
      },
      {
        benchmark: name,
        metric: 'parse-floor CPU per token',
        value: (parseFloor.cpuMs * 1000) / Math.max(1, totalIds),
        unit: 'µs',
      },
      {
        benchmark: name,
        metric: 'client CPU / parse-floor CPU',
        value: measured.cpuMs / parseFloor.cpuMs,
        unit: 'x',
      },
      { benchmark: name, metric: 'peak RSS (client process)', value: peakRssMb, unit: 'MB' },
      {
        benchmark: name,
        metric: 'latency p50 (client)',
        value: quantile(measured.latenciesMs, 0.5),
        unit: 'ms',
      },
      {
        benchmark: name,
        metric: 'latency p99 (client)',
        value: quantile(measured.latenciesMs, 0.99),
        unit: 'ms',
      },
      { benchmark: name, metric: 'latency added p50 (vs drain floor)', value: addedP50, unit: 'ms' },
      { benchmark: name, metric: 'latency added p99 (vs drain floor)', value: addedP99, unit: 'ms' },
    ]
  } finally {
    await server.stop()
  }
}

await runIfMain(import.meta.url, scaleBenchmark)
