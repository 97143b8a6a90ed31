// Scale: many concurrent streaming rollouts against mock-vllm running in a separate process. Measured side by
// side in one run: a bare floor reader (fetch + drain bytes, no parsing), a parse floor and VLLMClient, at the
// same concurrency, so "latency added by the client" is the difference of their latency quantiles. Each reader is
// credited only with the work it did: the ids it received or parsed, from the rollouts that succeeded. The ids
// the client received are compared with the ids the server sampled (its vllm:generation_tokens_total counter).
import { VLLMClient } from '@vllm-tito/client'
import type { ChatRequest } from '@vllm-tito/spec'
import { type BenchFigure, type BenchOptions, runIfMain } from './figures'
import { quantile, spawnMockVllm } from './spawn-mock-vllm'

const MODEL = 'Qwen/Qwen3-8B'
/** Attempts of a floor request that fails before any response (see `postWithRetry`). */
const FLOOR_ATTEMPTS = 3

/** One rollout's outcome: the ids it received or parsed (`null` for the drain floor, which parses nothing). */
type Rollout = (index: number) => Promise<{ ids: number | null; retries: number }>

interface PhaseResult {
  latenciesMs: number[]
  cpuMs: number
  succeeded: number
  failures: number
  /** Ids counted by the rollouts that succeeded. */
  ids: number
  retries: number
  /** Ids the server sampled during the phase. */
  sampled: number
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

async function runPhase(
  count: number,
  rollout: Rollout,
  generationTokens: () => Promise<number>,
): Promise<PhaseResult> {
  const result: PhaseResult = {
    latenciesMs: [],
    cpuMs: 0,
    succeeded: 0,
    failures: 0,
    ids: 0,
    retries: 0,
    sampled: 0,
  }
  const sampledBefore = await generationTokens()
  const cpuBefore = process.cpuUsage()
  await Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const started = performance.now()
      try {
        const { ids, retries } = await rollout(index)
        result.latenciesMs.push(performance.now() - started)
        result.succeeded += 1
        result.ids += ids ?? 0
        result.retries += retries
      } catch {
        result.failures += 1
      }
    }),
  )
  const cpu = process.cpuUsage(cpuBefore)
  result.cpuMs = (cpu.user + cpu.system) / 1000
  result.sampled = (await generationTokens()) - sampledBefore
  return result
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
    const records = { total: 0, verified: 0 }
    const rolloutWithClient: Rollout = async (index) => {
      const received = await client.chat.stream(requestFor(index, tokens)).final()
      records.total += received.length
      records.verified += received.filter((record) => record.verification.verified).length
      return { ids: received.reduce((sum, record) => sum + (record.tokenIds?.length ?? 0), 0), retries: 0 }
    }
    // the floors retry what the client retries: a request that fails before any response (the server closed
    // the pooled keep-alive socket as it was reused), so they do the same work and no rollout goes uncredited
    const postWithRetry = async (index: number) => {
      for (let attempt = 1; ; attempt += 1) {
        try {
          const response = await fetch(`${server.baseUrl}/v1/chat/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(requestFor(index, tokens)),
          })
          return { response, retries: attempt - 1 }
        } catch (error) {
          if (attempt >= FLOOR_ATTEMPTS) throw error
        }
      }
    }
    // the drain floor reads every byte and parses nothing: the closest a client gets to the server's send time
    const rolloutWithFloor: Rollout = async (index) => {
      const { response, retries } = await postWithRetry(index)
      for await (const _ of response.body!) {
        // drain
      }
      return { ids: null, retries }
    }
    // the parse floor does the least any id-collecting client must: decode, split lines, JSON.parse, push ids
    const rolloutWithParseFloor: Rollout = async (index) => {
      const { response, retries } = await postWithRetry(index)
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
      return { ids: ids.length, retries }
    }
    const sampled = () => server.generationTokens()
    await runPhase(8, rolloutWithClient, sampled) // warm-up: JIT, connections, tokenizer cache in the server
    records.total = 0
    records.verified = 0
    const measured = await runPhase(rollouts, rolloutWithClient, sampled)
    const peakRssMb = process.resourceUsage().maxRSS / 1024
    const floor = await runPhase(rollouts, rolloutWithFloor, sampled)
    const parseFloor = await runPhase(rollouts, rolloutWithParseFloor, sampled)

    // every rollout of the random policy samples the same number of ids (the tokens and EOS): the drain floor,
    // which counts none, is credited with that many per rollout that succeeded
    const idsPerRollout = tokens + 1
    if (parseFloor.ids !== parseFloor.succeeded * idsPerRollout) {
      throw new Error(
        `the parse floor parsed ${parseFloor.ids} ids in ${parseFloor.succeeded} rollouts, not ${idsPerRollout} each`,
      )
    }
    const floorIds = floor.succeeded * idsPerRollout
    const idsLost = measured.sampled - measured.ids
    const perToken = (phase: PhaseResult, ids: number) => (phase.cpuMs * 1000) / Math.max(1, ids)
    const clientPerToken = perToken(measured, measured.ids)
    const parsePerToken = perToken(parseFloor, parseFloor.ids)
    const addedP50 = quantile(measured.latenciesMs, 0.5) - quantile(floor.latenciesMs, 0.5)
    const addedP99 = quantile(measured.latenciesMs, 0.99) - quantile(floor.latenciesMs, 0.99)
    return [
      {
        benchmark: name,
        metric: 'rollouts completed',
        value: measured.succeeded,
        unit: `of ${rollouts}`,
        target: `= ${rollouts}`,
        meetsTarget: measured.succeeded === rollouts,
        kind: 'check',
      },
      {
        benchmark: name,
        metric: 'records verified',
        value: records.verified,
        unit: `of ${records.total}`,
        target: `= ${rollouts}`,
        meetsTarget: records.verified === rollouts && records.total === rollouts,
        kind: 'check',
      },
      {
        benchmark: name,
        // a failed rollout's sampled ids count here too: with one, the comparison cannot be made, and it fails
        metric: 'token ids lost (server sampled - client received)',
        value: idsLost,
        unit: `ids (${measured.sampled.toLocaleString('en-US')} sampled)`,
        target: '= 0',
        meetsTarget: idsLost === 0 && measured.failures === 0,
        kind: 'check',
      },
      { benchmark: name, metric: 'token ids received (client)', value: measured.ids, unit: 'ids' },
      {
        benchmark: name,
        metric: 'floor rollouts failed after retries (drain / parse)',
        value: floor.failures + parseFloor.failures,
        unit: `(${floor.failures} / ${parseFloor.failures}; ${floor.retries + parseFloor.retries} retried)`,
      },
      {
        benchmark: name,
        metric: 'parse floor: ids parsed / ids sampled',
        value: parseFloor.ids,
        unit: `of ${parseFloor.sampled.toLocaleString('en-US')}`,
      },
      { benchmark: name, metric: 'client CPU per token', value: clientPerToken, unit: 'µs' },
      {
        benchmark: name,
        metric: 'drain-floor CPU per token (ids of its succeeded rollouts)',
        value: perToken(floor, floorIds),
        unit: 'µs',
      },
      {
        benchmark: name,
        metric: 'parse-floor CPU per token (ids it parsed)',
        value: parsePerToken,
        unit: 'µs',
      },
      {
        benchmark: name,
        metric: 'client CPU / parse-floor CPU, per token',
        value: clientPerToken / parsePerToken,
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
