import { type MockFault, type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type CountingProxy, startCountingProxy } from './__fixtures__/counting-proxy'
import type { RolloutResult, RolloutTask } from './rollout-types'
import type { RunRolloutsOptions } from './run-options'
import { runRollouts } from './run-rollouts'
import { singleTurnRollout } from './single-turn-rollout'

const MODEL = 'Qwen/Qwen3-8B'
const task: RolloutTask = { id: 'q', question: 'What is 2 + 2?', answer: '4' }

let server: MockVllmServer
let proxy: CountingProxy

beforeAll(async () => {
  server = await startMockVllm({ model: MODEL, policy: { script: ['Four.'] } })
  proxy = await startCountingProxy(server.baseUrl)
})
afterAll(async () => {
  await proxy.close()
  await server.close()
})
afterEach(async () => {
  await proxy.whenIdle(2_000)
})

function faultHeader(fault: MockFault): Record<string, string> {
  return { 'x-mock-fault': JSON.stringify(fault) }
}

async function runOne(overrides: Partial<RunRolloutsOptions>): Promise<RolloutResult> {
  const results: RolloutResult[] = []
  for await (const result of runRollouts({
    tasks: [task],
    rollout: singleTurnRollout(),
    baseUrl: proxy.baseUrl,
    modelId: MODEL,
    clientRetries: 0,
    ...overrides,
  })) {
    results.push(result)
  }
  expect(results).toHaveLength(1)
  return results[0]!
}

describe('runRollouts: retries', () => {
  it('retries a 503 with backoff and succeeds on the next attempt', async () => {
    let attempts = 0
    const result = await runOne({
      retry: { attempts: 3, initialDelayMs: 1, maxDelayMs: 5 },
      // the headers are asked for once per attempt: the first attempt gets a 503, the second reaches the model
      requestHeaders: () => (attempts++ === 0 ? faultHeader({ kind: 'http-status', status: 503 }) : {}),
    })
    expect(attempts).toBe(2)
    expect(result.status).toBe('succeeded')
    expect(result.attempts).toBe(2)
    expect(result.retriedFailures).toHaveLength(1)
    expect(result.retriedFailures[0]).toMatchObject({ kind: 'api', retryable: true, statusCode: 503 })
    expect(result.records[0]!.verification.verified).toBe(true)
  })

  it('gives up after the last attempt and records the failure as retryable', async () => {
    const result = await runOne({
      retry: { attempts: 3, initialDelayMs: 1, maxDelayMs: 5 },
      requestHeaders: faultHeader({ kind: 'http-status', status: 500 }),
    })
    expect(result.status).toBe('failed')
    expect(result.attempts).toBe(3)
    expect(result.retriedFailures.map((failure) => failure.statusCode)).toEqual([500, 500])
    expect(result.failure).toMatchObject({ kind: 'api', source: 'api', retryable: true, statusCode: 500 })
    expect(result.records).toEqual([])
  })

  it('does not retry a non-retryable 4xx (an unknown model)', async () => {
    const result = await runOne({ modelId: 'no-such-model', retry: { attempts: 5, initialDelayMs: 1 } })
    expect(result.attempts).toBe(1)
    expect(result.failure).toMatchObject({ kind: 'api', retryable: false, statusCode: 404 })
  })

  it('honours Retry-After between attempts, up to maxRetryAfterSeconds', async () => {
    let attempt = 0
    const started = Date.now()
    const result = await runOne({
      retry: { attempts: 2, initialDelayMs: 1, maxDelayMs: 1, maxRetryAfterSeconds: 1 },
      requestHeaders: () =>
        attempt++ === 0 ? faultHeader({ kind: 'http-status', status: 429, retryAfterSeconds: 30 }) : {},
    })
    const elapsed = Date.now() - started
    expect(result.status).toBe('succeeded')
    expect(result.retriedFailures[0]).toMatchObject({ statusCode: 429, retryable: true })
    // the server asked for 30 s; the policy caps it at 1 s (and never waits less than asked, within the cap)
    expect(elapsed).toBeGreaterThanOrEqual(1_000)
    expect(elapsed).toBeLessThan(5_000)
  })

  it('gives a rollout without a verified record the prompt ids of its first request from /tokenize', async () => {
    const result = await runOne({
      retry: { attempts: 1 },
      requestHeaders: faultHeader({ kind: 'reset', afterChunks: 0 }),
    })
    expect(result.status).toBe('failed')
    expect(result.records).toEqual([])
    const expected = server.tokenizer.encodeChat([{ role: 'user', content: task.question }], {
      addGenerationPrompt: true,
    })
    expect(result.promptTokenIds).toEqual(expected)
  })
})

describe('runRollouts: timeouts', () => {
  it('aborts an attempt at its timeout, ends its HTTP call, retries, then records a timeout', async () => {
    const started = Date.now()
    const result = await runOne({
      timeoutMs: 150,
      retry: { attempts: 2, initialDelayMs: 1, maxDelayMs: 1 },
      // the server would answer after 30 s
      requestHeaders: faultHeader({ kind: 'stall', afterChunks: 0, ms: 30_000 }),
    })
    expect(Date.now() - started).toBeLessThan(3_000)
    expect(result.attempts).toBe(2)
    expect(result.failure).toEqual({
      kind: 'timeout',
      source: 'api',
      message: 'RolloutTimeoutError: the rollout attempt took longer than its timeout of 150 ms',
      retryable: true,
      statusCode: null,
    })
    // both attempts' requests were cut: nothing is left open on the server side
    await proxy.whenIdle(1_000)
    expect(proxy.inFlight).toBe(0)
  })

  // a rollout that waits for its call, and one that ignores its signal (the runner stops waiting for it at the
  // timeout, before the cut call has left its record)
  const rollouts: Array<[string, RunRolloutsOptions['rollout']]> = [
    ['a single-turn rollout', singleTurnRollout()],
    [
      'a rollout that ignores its signal',
      async (context) => {
        const request = { model: MODEL, messages: [{ role: 'user' as const, content: 'Hi' }] }
        context.client.chat
          .stream({ ...request, return_token_ids: true })
          .final()
          .catch(() => {})
        return new Promise(() => {})
      },
    ],
  ]
  it.each(rollouts)(
    'keeps what a streamed call the timeout cut had received (%s): its partial record',
    async (_, rollout) => {
      const result = await runOne({
        rollout,
        timeoutMs: 400,
        retry: { attempts: 1 },
        stream: true,
        // three chunks arrive, then the server goes quiet for 30 s
        requestHeaders: faultHeader({ kind: 'stall', afterChunks: 3, ms: 30_000 }),
      })
      expect(result.failure?.kind).toBe('timeout')
      expect(result.records).toHaveLength(1)
      expect(result.records[0]!.verification.verified).toBe(false)
      expect(result.records[0]!.tokenIds?.length).toBeGreaterThan(0)
    },
  )

  it('does not wait for a rollout function that ignores its signal', async () => {
    const started = Date.now()
    const result = await runOne({
      timeoutMs: 100,
      retry: { attempts: 1 },
      rollout: () => new Promise(() => {}),
    })
    // the rollout function never settles: any end proves the runner did not wait for it (a loaded machine
    // may take a while past the 100 ms)
    expect(Date.now() - started).toBeLessThan(10_000)
    expect(result.failure?.kind).toBe('timeout')
  })
})
