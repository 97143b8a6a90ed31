import { type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import type { SkyRLGeneratorOutput, SlimeSample, VerlRow } from '@vllm-tito/trajectory'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CountingProxy, startCountingProxy } from '../__fixtures__/counting-proxy'
import { agentFirstRequest } from '../agent-first-request'
import { type AgentFactory, agentRollout } from '../agent-rollout'
import { containsAnswerReward, createCalculatorAgent } from '../calculator/calculator-agent'
import { type RolloutService, startRolloutService } from './rollout-service'

const MODEL = 'Qwen/Qwen3-8B'
const task = { id: 'mul', question: 'What is 17 * 23? Use the calculator tool.', answer: '391' }

let server: MockVllmServer
let service: RolloutService

beforeAll(async () => {
  server = await startMockVllm({ model: MODEL, policy: 'demo' })
  service = await startRolloutService({
    rollout: agentRollout(createCalculatorAgent),
    reward: containsAnswerReward,
    concurrency: 4,
  })
})
afterAll(async () => {
  await service.close({ graceMs: 1_000 })
  await server.close()
})

/** The parts of an answer the tests read (docs/rollout-service.md has the whole API). */
interface ServiceBody {
  format?: string
  rows?: unknown
  rollouts?: Array<{
    rollout_id: string | number
    status: string
    reward: number | null
    model_calls: number
  }>
  summary?: Record<string, unknown>
  left_out?: Array<Record<string, unknown>>
  error?: { type: string; field?: string; message: string; retry_after_seconds?: number }
}

async function post(
  body: unknown,
  target = service,
  signal?: AbortSignal,
): Promise<{ status: number; headers: Headers; body: ServiceBody }> {
  const response = await fetch(`${target.url}/v1/rollouts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...(signal ? { signal } : {}),
  })
  return { status: response.status, headers: response.headers, body: (await response.json()) as ServiceBody }
}

describe('rollout service: rows', () => {
  it('answers a verl group with one AgentLoopOutput per rollout, in sample order, and each rollout’s outcome', async () => {
    const answer = await post({ task, group_size: 3, base_url: server.baseUrl, model: MODEL, format: 'verl' })
    expect(answer.status).toBe(200)
    expect(answer.body.format).toBe('verl')
    const rows = answer.body.rows as VerlRow[]
    expect(rows).toHaveLength(3)
    for (const row of rows) {
      expect(Object.keys(row).sort()).toEqual([
        'extra_fields',
        'metrics',
        'num_turns',
        'prompt_ids',
        'response_ids',
        'response_logprobs',
        'response_mask',
        'reward_score',
      ])
      expect(row.response_mask).toHaveLength(row.response_ids.length)
      expect(row.reward_score).toBe(1)
    }
    expect(rows.map((row) => row.extra_fields.vllm_tito.rollout_id)).toEqual(['mul/0', 'mul/1', 'mul/2'])
    expect(
      answer.body.rollouts!.map((rollout) => [
        rollout.rollout_id,
        rollout.status,
        rollout.reward,
        rollout.model_calls,
      ]),
    ).toEqual([
      ['mul/0', 'succeeded', 1, 2],
      ['mul/1', 'succeeded', 1, 2],
      ['mul/2', 'succeeded', 1, 2],
    ])
    expect(answer.body.summary).toMatchObject({
      rollouts: 3,
      succeeded: 3,
      verified_share: 1,
      reward_mean: 1,
    })
  })

  it('answers a SkyRL batch of several tasks as one GeneratorOutput in the input batch order', async () => {
    const order = [
      { instance_id: 'b', repetition_id: 1 },
      { instance_id: 'a', repetition_id: 0 },
      { instance_id: 'b', repetition_id: 0 },
      { instance_id: 'a', repetition_id: 1 },
    ]
    const answer = await post({
      tasks: [
        { id: 'a', question: 'What is 2 + 3? Use the calculator tool.', answer: '5' },
        { id: 'b', question: 'What is 4 * 4? Use the calculator tool.', answer: '16' },
      ],
      group_size: 2,
      base_url: server.baseUrl,
      model: MODEL,
      format: 'skyrl',
      export_options: { inputTrajectoryIds: order },
    })
    expect(answer.body.error).toBeUndefined()
    expect(answer.status).toBe(200)
    const output = answer.body.rows as SkyRLGeneratorOutput
    expect(output.trajectory_ids).toEqual(order)
    expect(output.rewards).toEqual([1, 1, 1, 1])
    expect(output.response_ids).toHaveLength(4)
  })

  it('answers slime with the integer ids the trainer sent and sends each as the routing header', async () => {
    const before = server.requests.length
    const answer = await post({
      task: { ...task, id: 3 },
      rollout_ids: [12],
      base_url: server.baseUrl,
      model: MODEL,
      format: 'slime',
      sampling_params: { temperature: 0.6, max_tokens: 512 },
    })
    expect(answer.status).toBe(200)
    expect(
      (answer.body.rows as SlimeSample[]).map((sample) => [
        sample.group_index,
        sample.index,
        sample.rollout_id,
        sample.status,
      ]),
    ).toEqual([[3, 12, 12, 'completed']])
    const calls = server.requests.slice(before)
    expect(calls.map((request) => request.headers['x-session-id'])).toEqual(['12', '12'])
    expect(
      calls.map((request) => [
        (request.body as { temperature?: number }).temperature,
        (request.body as { max_tokens?: number }).max_tokens,
      ]),
    ).toEqual([
      [0.6, 512],
      [0.6, 512],
    ])
  })
})

describe('rollout service: a rollout without a row', () => {
  it('answers 200 with the rows of the others and names the one left out; with firstRequest it gets its row', async () => {
    // the agent of sample 1 cannot be built: that rollout fails before any model call
    const brokenForSampleOne: AgentFactory = (context) => {
      if (context.sampleIndex === 1) throw new Error('no agent for this sample')
      return createCalculatorAgent(context)
    }
    const body = { task, group_size: 2, base_url: server.baseUrl, model: MODEL, format: 'verl' }
    const without = await startRolloutService({
      rollout: agentRollout(brokenForSampleOne),
      reward: containsAnswerReward,
    })
    const withFirstRequest = await startRolloutService({
      rollout: agentRollout(brokenForSampleOne),
      reward: containsAnswerReward,
      firstRequest: agentFirstRequest(createCalculatorAgent),
    })
    try {
      const answer = await post(body, without)
      expect(answer.status).toBe(200)
      expect((answer.body.rows as VerlRow[]).map((row) => row.extra_fields.vllm_tito.rollout_id)).toEqual([
        'mul/0',
      ])
      expect(answer.body.left_out).toEqual([
        {
          task_id: 'mul',
          sample_index: 1,
          rollout_id: 'mul/1',
          rule: 'row-required',
          reason:
            'no record to build a row from, and no prompt ids for an empty-response row: it made no model call, and the run has no firstRequest to tell its prompt (pass firstRequest, e.g. agentFirstRequest(factory))',
          failure: 'Error: no agent for this sample',
        },
      ])
      expect(answer.body.summary).toMatchObject({ rollouts: 2, succeeded: 1, left_out: 1 })
      const fixed = await post(body, withFirstRequest)
      expect(fixed.body.left_out).toEqual([])
      const rows = fixed.body.rows as VerlRow[]
      expect(
        rows.map((row) => [
          row.extra_fields.vllm_tito.rollout_id,
          row.response_ids.length > 0,
          row.reward_score,
        ]),
      ).toEqual([
        ['mul/0', true, 1],
        ['mul/1', false, 0],
      ])
      expect(rows[1]!.prompt_ids).toEqual(rows[0]!.prompt_ids)
    } finally {
      await Promise.all([without.close({ graceMs: 100 }), withFirstRequest.close({ graceMs: 100 })])
    }
  })
})

describe('rollout service: bad requests', () => {
  it('answers 400 with a JSON error naming the field', async () => {
    const fieldOf = async (body: unknown) => {
      const answer = await post(body)
      expect(answer.status).toBe(400)
      expect(answer.body.error?.type).toBe('invalid_request')
      return [answer.body.error?.field, answer.body.error?.message]
    }
    const good = { task, base_url: server.baseUrl, model: MODEL, format: 'verl' }
    expect(await fieldOf({ ...good, group_sise: 2 })).toEqual([
      'group_sise',
      'POST /v1/rollouts: unknown option `group_sise` (did you mean `group_size`?); known options: task, tasks, group_size, base_url, model, sampling_params, format, export_options, rollout_ids, ids, stream, timeout_seconds',
    ])
    expect((await fieldOf({ ...good, task: { id: 'x' } }))[0]).toBe('task.question')
    expect((await fieldOf({ ...good, task: undefined, tasks: [task, { id: 'y', question: 7 }] }))[0]).toBe(
      'tasks[1].question',
    )
    expect((await fieldOf({ ...good, sampling_params: { max_new_tokens: 10 } }))[0]).toBe(
      'sampling_params.max_new_tokens',
    )
    expect((await fieldOf({ ...good, export_options: { maxPromptLenght: 10 } }))[0]).toBe(
      'export_options.maxPromptLenght',
    )
    expect(await fieldOf({ ...good, format: 'slime' })).toEqual([
      'task.id',
      'POST /v1/rollouts: slime needs an integer `task.id` (its group_index), got the string "mul"; or send "ids": "positions"',
    ])
    expect((await fieldOf({ ...good, group_size: 2, rollout_ids: ['a'] }))[0]).toBe('rollout_ids')
    expect((await fieldOf({ ...good, base_url: undefined }))[0]).toBe('base_url')
    expect((await fieldOf({ ...good, group_size: 1000 }))[0]).toBe('group_size')
    // longer than a timer can wait (2^31 - 1 ms): every attempt would time out at once
    expect(await fieldOf({ ...good, timeout_seconds: 1e7 })).toEqual([
      'timeout_seconds',
      'POST /v1/rollouts: option `timeout_seconds` must be a number greater than 0 and at most 2147483.647, got 10000000',
    ])
    expect((await fieldOf('{"task": ')).slice(0, 1)).toEqual(['(body)'])
  })

  it('answers 404, 405 and the probes with JSON', async () => {
    const get = async (path: string, method = 'GET') => {
      const response = await fetch(`${service.url}${path}`, { method })
      return [response.status, await response.json()]
    }
    expect(await get('/health')).toEqual([200, { status: 'ok' }])
    expect(await get('/ready')).toEqual([
      200,
      { status: 'ready', running: 0, pending: 0, max_pending: 16, concurrency: 4 },
    ])
    expect((await get('/v1/rollouts', 'GET'))[0]).toBe(405)
    expect(await get('/v2/rollouts')).toEqual([
      404,
      { error: { type: 'not_found', message: 'no route GET /v2/rollouts; see docs/rollout-service.md' } },
    ])
  })
})

describe('rollout service: saturation and cancellation', () => {
  let slow: MockVllmServer
  let proxy: CountingProxy
  let small: RolloutService

  beforeAll(async () => {
    // each model call takes 20 s: requests stay open until they are cancelled
    slow = await startMockVllm({ model: MODEL, policy: 'demo', pacing: { firstTokenDelayMs: 20_000 } })
    proxy = await startCountingProxy(slow.baseUrl)
    small = await startRolloutService({
      rollout: agentRollout(createCalculatorAgent),
      baseUrl: proxy.baseUrl,
      modelId: MODEL,
      concurrency: 2,
      maxPending: 3,
      retryAfterSeconds: 2,
    })
  })
  afterAll(async () => {
    await small.close({ graceMs: 100 })
    await proxy.close()
    await slow.close()
  })

  it('answers 429 with Retry-After once its admitted rollouts are taken, and reports saturation on /ready', async () => {
    const controller = new AbortController()
    const first = post({ task, group_size: 3, format: 'verl' }, small, controller.signal).catch(
      () => undefined,
    )
    await waitFor(() => small.pending === 3)
    const refused = await post({ task, group_size: 1, format: 'verl' }, small)
    expect(refused.status).toBe(429)
    expect(refused.headers.get('retry-after')).toBe('2')
    expect(refused.body).toEqual({
      error: {
        type: 'saturated',
        message: 'the service is running 3 of the 3 rollouts it admits at once; retry after 2 s',
        retry_after_seconds: 2,
      },
    })
    const ready = await fetch(`${small.url}/ready`)
    expect([ready.status, ((await ready.json()) as { status: string }).status]).toEqual([503, 'saturated'])
    controller.abort()
    await first
    await waitFor(() => small.pending === 0)
  })

  it('cancels the rollouts of a request whose client disconnects: their model calls end', async () => {
    const controller = new AbortController()
    const receivedBefore = proxy.received
    const pending = post({ task, group_size: 3, format: 'verl' }, small, controller.signal).catch(
      (error: unknown) => error,
    )
    // two rollouts run (the concurrency), the third waits for a slot
    await waitFor(() => proxy.inFlight === 2)
    controller.abort()
    expect(((await pending) as Error).name).toBe('AbortError')
    await proxy.whenIdle(2_000)
    await waitFor(() => small.pending === 0 && small.running === 0)
    // the waiting rollout never started: no call reached the model server after the disconnect
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(proxy.received - receivedBefore).toBe(2)
  })
})

describe('rollout service: draining', () => {
  it('finishes open requests, answers new ones 503 draining with Retry-After, and reports draining', async () => {
    const slowish = await startMockVllm({ model: MODEL, policy: 'demo', pacing: { firstTokenDelayMs: 300 } })
    const draining = await startRolloutService({
      rollout: agentRollout(createCalculatorAgent),
      reward: containsAnswerReward,
      baseUrl: slowish.baseUrl,
      modelId: MODEL,
      retryAfterSeconds: 3,
    })
    try {
      const open = post({ task, format: 'verl' }, draining)
      await waitFor(() => draining.pending === 1)
      const closed = draining.close({ graceMs: 10_000 })
      const late = await post({ task, format: 'verl' }, draining)
      expect([late.status, late.headers.get('retry-after'), late.body.error?.type]).toEqual([
        503,
        '3',
        'draining',
      ])
      const ready = await fetch(`${draining.url}/ready`)
      expect([ready.status, ((await ready.json()) as { status: string }).status]).toEqual([503, 'draining'])
      const answer = await open
      expect([answer.status, answer.body.rollouts?.[0]?.status]).toEqual([200, 'succeeded'])
      await closed
      await expect(fetch(`${draining.url}/health`)).rejects.toThrow()
    } finally {
      await draining.close()
      await slowish.close()
    }
  })
})

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('the condition did not come true in time')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
