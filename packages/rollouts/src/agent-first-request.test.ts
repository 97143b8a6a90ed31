import { VLLMClient } from '@vllm-tito/client'
import { type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import type { ChatRequest } from '@vllm-tito/spec'
import type { VerlRow } from '@vllm-tito/trajectory'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CountingProxy, startCountingProxy } from './__fixtures__/counting-proxy'
import { agentFirstRequest } from './agent-first-request'
import { type AgentFactory, agentRollout } from './agent-rollout'
import { containsAnswerReward, createCalculatorAgent } from './calculator/calculator-agent'
import type { RolloutResult } from './rollout-types'
import type { RunRolloutsOptions } from './run-options'
import { runRollouts } from './run-rollouts'
import { toTrainerRows } from './trainer-rows'

const MODEL = 'Qwen/Qwen3-8B'
const task = { id: 'mul', question: 'What is 17 * 23? Use the calculator tool.', answer: '391' }

let server: MockVllmServer
let withoutTokenize: CountingProxy
let stallingTokenize: CountingProxy

beforeAll(async () => {
  server = await startMockVllm({ model: MODEL, policy: 'demo' })
  withoutTokenize = await startCountingProxy(server.baseUrl, { notFound: ['/tokenize'] })
  stallingTokenize = await startCountingProxy(server.baseUrl, { hang: ['/tokenize'] })
})
afterAll(async () => {
  await Promise.all([withoutTokenize.close(), stallingTokenize.close()])
  await server.close()
})

/** Every request of sample 1 fails with HTTP 500: that rollout fails at its first model call. */
const failSampleOne = ({ sampleIndex }: { sampleIndex: number }): Record<string, string> =>
  sampleIndex === 1 ? { 'x-mock-fault': JSON.stringify({ kind: 'http-status', status: 500 }) } : {}

/** The calculator agent, except that building the agent of sample 1 fails: before any model call. */
const brokenForSampleOne: AgentFactory = (context) => {
  if (context.sampleIndex === 1) throw new Error('the factory broke')
  return createCalculatorAgent(context)
}

async function collect(overrides: Partial<RunRolloutsOptions>): Promise<RolloutResult[]> {
  const results: RolloutResult[] = []
  for await (const result of runRollouts({
    tasks: [task],
    groupSize: 2,
    rollout: agentRollout(brokenForSampleOne),
    reward: containsAnswerReward,
    baseUrl: server.baseUrl,
    modelId: MODEL,
    retry: { attempts: 1 },
    ...overrides,
  })) {
    results.push(result)
  }
  return results.sort((left, right) => left.rolloutNumber - right.rolloutNumber)
}

describe('agentFirstRequest', () => {
  it('captures the first request without calling the server: /tokenize of it gives the ids of the real first call', async () => {
    let captured: ChatRequest | undefined
    let callsDuringCapture = -1
    const [result] = await collect({
      groupSize: 1,
      rollout: async (context) => {
        const before = server.requests.length
        captured = await agentFirstRequest(createCalculatorAgent)(context)
        callsDuringCapture = server.requests.length - before
        return agentRollout(createCalculatorAgent)(context)
      },
    })
    expect(callsDuringCapture).toBe(0)
    expect(captured!.messages.map((message) => message.role)).toEqual(['system', 'user'])
    expect(captured!.tools?.map((tool) => tool.function.name)).toEqual(['calculator'])
    const tokenized = await new VLLMClient({ baseUrl: server.baseUrl }).tokenize({
      model: MODEL,
      messages: captured!.messages,
      tools: captured!.tools!,
      addGenerationPrompt: true,
    })
    expect(result!.status).toBe('succeeded')
    expect(tokenized.tokenIds).toEqual(result!.records[0]!.promptTokenIds)
  })
})

describe('a rollout that fails before its first model call', () => {
  it('gets the prompt ids of its first request from the run’s firstRequest, and verl an empty-response row', async () => {
    const results = await collect({ firstRequest: agentFirstRequest(createCalculatorAgent) })
    const [solved, broken] = results
    expect(broken!.failure).toMatchObject({ kind: 'agent', message: 'Error: the factory broke' })
    expect([broken!.status, broken!.reward, broken!.records]).toEqual(['failed', 0, []])
    expect(broken!.promptTokenIds).toEqual(solved!.records[0]!.promptTokenIds)
    expect(broken!.promptTokenIdsProblem).toBeUndefined()
    const verl = toTrainerRows(results, { format: 'verl', exportOptions: { splitRollout: 'last-sequence' } })
    expect(verl.leftOut).toEqual([])
    const rows = verl.rows as VerlRow[]
    expect(rows.map((row) => row.extra_fields.vllm_tito.rollout_id)).toEqual(['mul/0', 'mul/1'])
    expect(rows[1]!.prompt_ids).toEqual(solved!.records[0]!.promptTokenIds)
    expect([rows[1]!.response_ids, rows[1]!.response_mask, rows[1]!.reward_score]).toEqual([[], [], 0])
    expect(rows[1]!.extra_fields.vllm_tito.status).toBe('failed')
  })

  it('without firstRequest, is left out of every trainer’s rows, named with the reason; the others are exported', async () => {
    const results = await collect({})
    const broken = results[1]!
    expect(broken.promptTokenIds).toBeNull()
    expect(broken.promptTokenIdsProblem).toBe(
      'it made no model call, and the run has no firstRequest to tell its prompt (pass firstRequest, e.g. agentFirstRequest(factory))',
    )
    const expected = {
      taskId: 'mul',
      sampleIndex: 1,
      rolloutId: 'mul/1',
      rolloutNumber: 1,
      rule: 'row-required',
      reason: `no record to build a row from, and no prompt ids for an empty-response row: ${broken.promptTokenIdsProblem}`,
      failure: 'Error: the factory broke',
    }
    const verl = toTrainerRows(results, { format: 'verl', exportOptions: { splitRollout: 'last-sequence' } })
    expect((verl.rows as VerlRow[]).map((row) => row.extra_fields.vllm_tito.rollout_id)).toEqual(['mul/0'])
    expect(verl.leftOut).toEqual([expected])
    const slime = toTrainerRows(results, { format: 'slime', ids: 'positions' })
    expect(slime.format === 'slime' && slime.rows.map((sample) => sample.index)).toEqual([0])
    expect(slime.leftOut).toEqual([expected])
    const skyrl = toTrainerRows(results, {
      format: 'skyrl',
      exportOptions: {
        emptyResponseTokenId: 151645,
        inputTrajectoryIds: [
          { instance_id: 'mul', repetition_id: 1 },
          { instance_id: 'mul', repetition_id: 0 },
        ],
      },
    })
    expect(skyrl.format === 'skyrl' && skyrl.rows.trajectory_ids).toEqual([
      { instance_id: 'mul', repetition_id: 0 },
    ])
    expect(skyrl.leftOut).toEqual([expected])
    // Agent Lightning takes the triplets there are: a rollout without calls simply has none
    const triplets = toTrainerRows(results, { format: 'agent-lightning' })
    expect(triplets.format === 'agent-lightning' && triplets.rows).toHaveLength(2)
    expect(triplets.leftOut).toEqual([])
  })

  it('whose first call failed on a server without /tokenize is left out, naming the failed /tokenize', async () => {
    const results = await collect({
      baseUrl: withoutTokenize.baseUrl,
      rollout: agentRollout(createCalculatorAgent),
      firstRequest: agentFirstRequest(createCalculatorAgent),
      clientRetries: 0,
      requestHeaders: failSampleOne,
    })
    const broken = results[1]!
    expect(broken.failure).toMatchObject({ kind: 'api', statusCode: 500 })
    expect([broken.records, broken.promptTokenIds]).toEqual([[], null])
    expect(broken.promptTokenIdsProblem).toMatch(/^POST \/tokenize of its first request failed: .*404/)
    const verl = toTrainerRows(results, { format: 'verl', exportOptions: { splitRollout: 'last-sequence' } })
    expect(verl.rows).toHaveLength(1)
    expect(verl.leftOut.map((entry) => [entry.rolloutId, entry.rule])).toEqual([['mul/1', 'row-required']])
    expect(verl.leftOut[0]!.reason).toContain('POST /tokenize of its first request failed')
  })

  it('is not yielded when the run is cancelled while its prompt ids are asked for: a resumed run redoes it', async () => {
    const controller = new AbortController()
    const yielded: RolloutResult[] = []
    const run = runRollouts({
      tasks: [task],
      groupSize: 2,
      rollout: agentRollout(createCalculatorAgent),
      baseUrl: stallingTokenize.baseUrl,
      modelId: MODEL,
      retry: { attempts: 1 },
      clientRetries: 0,
      requestHeaders: failSampleOne,
      signal: controller.signal,
    })
    const iterate = (async () => {
      for await (const result of run) yielded.push(result)
    })()
    // sample 0 finishes; sample 1 failed and waits for /tokenize, which never answers
    const deadline = Date.now() + 10_000
    while (yielded.length < 1 || stallingTokenize.inFlight < 1) {
      if (Date.now() > deadline) throw new Error('sample 1 never asked /tokenize')
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    controller.abort(new Error('stop'))
    await expect(iterate).rejects.toMatchObject({ name: 'RunCancelledError', finished: 1, cancelled: 1 })
    expect(yielded.map((result) => result.rolloutId)).toEqual(['mul/0'])
  })

  it('says so when the firstRequest function itself fails', async () => {
    const results = await collect({
      firstRequest: () => {
        throw new Error('no prompt for you')
      },
    })
    expect(results[1]!.promptTokenIdsProblem).toBe(
      'its first request could not be built: Error: no prompt for you',
    )
  })
})
