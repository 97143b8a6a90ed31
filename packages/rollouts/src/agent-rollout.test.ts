import { type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { agentRollout } from './agent-rollout'
import { containsAnswerReward, createCalculatorAgent } from './calculator/calculator-agent'
import type { RolloutResult, RolloutTask } from './rollout-types'
import type { RunRolloutsOptions } from './run-options'
import { runRollouts } from './run-rollouts'

const MODEL = 'Qwen/Qwen3-8B'
const tasks: RolloutTask[] = [
  { id: 'mul', question: 'What is 17 * 23? Use the calculator tool.', answer: '391' },
  { id: 'add', question: 'What is 128 + 256? Use the calculator tool.', answer: '384' },
]

let server: MockVllmServer
let slowServer: MockVllmServer

beforeAll(async () => {
  server = await startMockVllm({ model: MODEL, policy: 'demo' })
  slowServer = await startMockVllm({ model: MODEL, policy: 'demo', pacing: { firstTokenDelayMs: 30_000 } })
})
afterAll(async () => {
  await Promise.all([server.close(), slowServer.close()])
})

async function collect(overrides: Partial<RunRolloutsOptions> = {}): Promise<RolloutResult[]> {
  const results: RolloutResult[] = []
  for await (const result of runRollouts({
    tasks,
    groupSize: 2,
    rollout: agentRollout(createCalculatorAgent),
    reward: containsAnswerReward,
    baseUrl: server.baseUrl,
    modelId: MODEL,
    ...overrides,
  })) {
    results.push(result)
  }
  return results.sort((left, right) => left.rolloutNumber - right.rolloutNumber)
}

describe('agentRollout with the calculator agent', () => {
  it('solves each task with a tool call, keeps both calls verified, and is rewarded 1', async () => {
    const results = await collect()
    expect(results.map((result) => [result.rolloutId, result.status, result.reward])).toEqual([
      ['mul/0', 'succeeded', 1],
      ['mul/1', 'succeeded', 1],
      ['add/0', 'succeeded', 1],
      ['add/1', 'succeeded', 1],
    ])
    expect(results[0]!.answer).toBe('17 * 23 is 391.')
    for (const result of results) {
      expect(result.records).toHaveLength(2)
      expect(result.records.every((record) => record.verification.verified)).toBe(true)
      expect(result.records[0]!.toolCalls.map((call) => call.name)).toEqual(['calculator'])
      // the second prompt extends the first prompt and response: one exact sequence for the trainer
      const [first, second] = result.records
      expect(second!.promptTokenIds!.slice(0, first!.promptTokenIds!.length)).toEqual(first!.promptTokenIds)
    }
  })

  it('sends the rollout id as the sticky-routing header on every model call of the rollout', async () => {
    const before = server.requests.length
    await collect({ routing: { dataParallelSize: 4 } })
    const chats = server.requests.slice(before).filter((request) => request.path === '/v1/chat/completions')
    expect(chats).toHaveLength(8)
    const callsById = new Map<string, number>()
    for (const request of chats) {
      const id = String(request.headers['x-session-id'])
      callsById.set(id, (callsById.get(id) ?? 0) + 1)
      expect(request.headers['x-data-parallel-rank']).toMatch(/^[0-3]$/)
    }
    expect(Object.fromEntries(callsById)).toEqual({ 'mul/0': 2, 'mul/1': 2, 'add/0': 2, 'add/1': 2 })
    // one rollout, one rank: both calls of a rollout carry the same rank
    const ranks = new Map<string, Set<unknown>>()
    for (const request of chats) {
      const id = String(request.headers['x-session-id'])
      ranks.set(id, (ranks.get(id) ?? new Set()).add(request.headers['x-data-parallel-rank']))
    }
    expect([...ranks.values()].every((set) => set.size === 1)).toBe(true)
  })

  it('sends the routing header the options name, and none when it is null', async () => {
    const before = server.requests.length
    await collect({ tasks: tasks.slice(0, 1), groupSize: 1, routing: { header: 'X-SMG-Routing-Key' } })
    const named = server.requests.slice(before)
    expect(named.map((request) => request.headers['x-smg-routing-key'])).toEqual(['mul/0', 'mul/0'])
    expect(named.every((request) => request.headers['x-session-id'] === undefined)).toBe(true)
    const middle = server.requests.length
    await collect({ tasks: tasks.slice(0, 1), groupSize: 1, routing: { header: null } })
    expect(
      server.requests.slice(middle).every((request) => request.headers['x-session-id'] === undefined),
    ).toBe(true)
  })

  it.each([
    { stream: false, expected: { streamed: 0, nonStreamed: 2 } },
    { stream: true, expected: { streamed: 2, nonStreamed: 0 } },
  ])(
    'runs the calculator agent through VLLMModel with stream: $stream: succeeded, reward 1, records verified',
    async ({ stream, expected }) => {
      const before = server.requests.length
      const [result] = await collect({ tasks: tasks.slice(0, 1), groupSize: 1, stream })
      expect(result!.failure).toBeNull()
      expect([result!.status, result!.reward, result!.answer]).toEqual(['succeeded', 1, '17 * 23 is 391.'])
      expect(result!.records.map((record) => record.verification.verified)).toEqual([true, true])
      expect(result!.modelCalls).toEqual(expected)
      // the server saw the mode the run asked for, on both calls
      const modes = server.requests
        .slice(before)
        .filter((request) => request.path === '/v1/chat/completions')
        .map((request) => (request.body as { stream?: boolean }).stream === true)
      expect(modes).toEqual([stream, stream])
    },
  )

  it('calls the model non-streaming when the run does not say otherwise', async () => {
    const [result] = await collect({ tasks: tasks.slice(0, 1), groupSize: 1 })
    expect(result!.modelCalls).toEqual({ streamed: 0, nonStreamed: 2 })
    expect(result!.status).toBe('succeeded')
  })

  it('sends the sampling params with every call and ends a call cut at max_tokens as a truncated rollout', async () => {
    const before = server.requests.length
    const [result] = await collect({
      tasks: tasks.slice(0, 1),
      groupSize: 1,
      samplingParams: { max_tokens: 5, temperature: 0.7 },
    })
    const body = server.requests[before]!.body as Record<string, unknown>
    expect([body.max_tokens, body.temperature, body.logprobs]).toEqual([5, 0.7, true])
    expect(result!.status).toBe('succeeded')
    expect(result!.records).toHaveLength(1)
    expect(result!.records[0]!.finishReason).toBe('length')
    expect(result!.reward).toBe(0)
  })

  it('times out a hanging agent: its call is aborted and the rollout records a timeout', async () => {
    const started = Date.now()
    const [result] = await collect({
      tasks: tasks.slice(0, 1),
      groupSize: 1,
      baseUrl: slowServer.baseUrl,
      timeoutMs: 200,
      retry: { attempts: 1 },
    })
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(result!.failure).toMatchObject({ kind: 'timeout', retryable: true })
    expect(result!.reward).toBe(0)
  })
})
