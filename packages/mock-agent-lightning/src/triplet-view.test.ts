import { type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { call, createRollout, proxyPath } from './__fixtures__/gateway-client'
import type { MockAgentLightningServer } from './mock-agent-lightning-options'
import { startMockAgentLightning } from './start-mock-agent-lightning'
import { pythonFloat } from './triplet-view'

const KEY = 'k'
let vllm: MockVllmServer
let gateway: MockAgentLightningServer

beforeAll(async () => {
  vllm = await startMockVllm({ policy: { script: ['Five.', 'It is 5.'] } })
  gateway = await startMockAgentLightning({
    key: KEY,
    models: [{ model: 'Qwen/Qwen3-8B', endpoint: `${vllm.baseUrl}/v1`, version: 4 }],
  })
})

afterAll(async () => {
  await gateway.close()
  await vllm.close()
})

type Event = { event_type: string; data: Record<string, unknown> }

async function triplets(rolloutId: string, query = ''): Promise<Event[]> {
  const answer = await call(gateway.url, `/api/rollouts/${rolloutId}/events?format=triplet${query}`, {
    key: KEY,
  })
  expect(answer.status).toBe(200)
  return answer.json as Event[]
}

const postEvent = (rolloutId: string, event: unknown, attemptId = '0') =>
  call(gateway.url, `/api/rollouts/${rolloutId}/attempt/${attemptId}/events`, { body: event, key: KEY })

const modelRequest = (response: unknown, extra: Record<string, unknown> = {}) => ({
  event_type: 'model_request',
  data: { response, server: { model: 'm', version: 3, endpoint: 'http://x' }, ...extra },
})

describe('model_request trimming, through the real proxy', () => {
  test('chat: prompt ids from the top level, response ids and logprob values from choices[0]', async () => {
    const rolloutId = await createRollout(gateway.url, KEY)
    const answer = await call(gateway.url, proxyPath(rolloutId), {
      body: { messages: [{ role: 'user', content: 'What is 2 + 3?' }], max_tokens: 16 },
      key: KEY,
    })
    const body = answer.json as {
      prompt_token_ids: number[]
      choices: Array<{ token_ids: number[]; logprobs: { content: Array<{ logprob: number }> } }>
    }
    const [event] = await triplets(rolloutId)
    expect(event).toMatchObject({ event_type: 'model_request', rollout_id: rolloutId, attempt_id: '0' })
    expect(event?.data).toEqual({
      prompt_token_ids: body.prompt_token_ids,
      response_token_ids: body.choices[0]!.token_ids,
      response_log_probs: body.choices[0]!.logprobs.content.map((entry) => entry.logprob),
      server: { model: 'Qwen/Qwen3-8B', version: 4 },
      http_status: 200,
      status: 'ok',
    })
    expect(body.prompt_token_ids.length).toBeGreaterThan(5)
    expect(body.choices[0]!.token_ids.at(-1)).toBe(151_645)
  })

  test('completions: prompt ids and token_logprobs from choices[0] (val mode, the agent asking for logprobs)', async () => {
    const rolloutId = await createRollout(gateway.url, KEY, { input: null, is_train: false })
    const answer = await call(gateway.url, proxyPath(rolloutId, 'val', 'completions'), {
      body: { prompt: 'Two plus three is', max_tokens: 8, logprobs: 1 },
      key: KEY,
    })
    expect(answer.status).toBe(200)
    const body = answer.json as {
      choices: Array<{
        prompt_token_ids: number[]
        token_ids: number[]
        logprobs: { token_logprobs: number[] }
      }>
    }
    const [event] = await triplets(rolloutId)
    expect(event?.data).toMatchObject({
      prompt_token_ids: body.choices[0]!.prompt_token_ids,
      response_token_ids: body.choices[0]!.token_ids,
      response_log_probs: body.choices[0]!.logprobs.token_logprobs,
    })
  })

  test('an upstream error keeps http_status, status and error, with empty ids', async () => {
    const rolloutId = await createRollout(gateway.url, KEY)
    const answer = await call(gateway.url, proxyPath(rolloutId), {
      body: { messages: [], max_tokens: -1 },
      key: KEY,
    })
    expect(answer.status).toBe(400)
    const [event] = await triplets(rolloutId)
    expect(event?.data).toEqual({
      prompt_token_ids: [],
      response_token_ids: [],
      response_log_probs: null,
      server: { model: 'Qwen/Qwen3-8B', version: 4 },
      http_status: 400,
      status: 'error',
      error: (answer.json as { error: unknown }).error,
    })
  })
})

describe('log-prob extraction (_extract_choice_log_probs)', () => {
  test.each([
    ['chat content', { content: [{ logprob: -0.5 }, { logprob: 0 }] }, [-0.5, 0]],
    ['completions token_logprobs', { token_logprobs: [-1.25, -2] }, [-1.25, -2]],
    [
      'numeric strings and booleans, as float() takes them',
      { token_logprobs: ['-1.5', ' 2_0 ', true] },
      [-1.5, 20, 1],
    ],
    ['a NaN string', { token_logprobs: [-1, 'nan'] }, null],
    ['-inf', { token_logprobs: ['-inf'] }, null],
    ['a null value', { token_logprobs: [-1, null] }, null],
    ['an entry without logprob', { content: [{ logprob: -1 }, { token: 'x' }] }, null],
    ['no logprobs field', null, null],
    ['an unknown shape', { tokens: ['a'] }, null],
  ])('%s → %j', async (_label, logprobs, expected) => {
    const rolloutId = await createRollout(gateway.url, KEY)
    await postEvent(
      rolloutId,
      modelRequest({ prompt_token_ids: [1], choices: [{ token_ids: [2], logprobs }] }),
    )
    const [event] = await triplets(rolloutId)
    expect(event?.data.response_log_probs).toEqual(expected)
  })

  test("pythonFloat follows Python's float() on strings", () => {
    expect(['1', '-2.5', '.5', '5.', '1e3', '1_000.5', 'Infinity', '-inf', ' 7 '].map(pythonFloat)).toEqual([
      1,
      -2.5,
      0.5,
      5,
      1000,
      1000.5,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      7,
    ])
    expect(['', 'abc', '1__0', '_1', '0x10', '1e'].map(pythonFloat)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ])
    expect(Number.isNaN(pythonFloat('NaN'))).toBe(true)
  })
})

describe('de-duplication and other events', () => {
  test('model_requests with the same prompt ids: only the last is kept, in place; rewards and others pass', async () => {
    const rolloutId = await createRollout(gateway.url, KEY)
    await postEvent(rolloutId, modelRequest({ prompt_token_ids: [1, 2], choices: [{ token_ids: [10] }] }))
    await postEvent(rolloutId, { event_type: 'reward', data: { value: 0.5 } })
    await postEvent(rolloutId, modelRequest({ prompt_token_ids: [3, 4], choices: [{ token_ids: [20] }] }))
    await postEvent(rolloutId, { event_type: 'tool_result', data: { ok: true } })
    await postEvent(rolloutId, modelRequest({ prompt_token_ids: [1, 2], choices: [{ token_ids: [30] }] }))
    const view = await triplets(rolloutId)
    expect(view.map((event) => event.event_type)).toEqual([
      'reward',
      'model_request',
      'tool_result',
      'model_request',
    ])
    expect(view.map((event) => event.data.response_token_ids ?? null)).toEqual([null, [20], null, [30]])
    expect(view[2]?.data).toEqual({ ok: true })
    const raw = (
      await call(gateway.url, `/api/rollouts/${rolloutId}/events?event_type=model_request`, { key: KEY })
    ).json as Event[]
    expect(raw).toHaveLength(3)
  })

  test('[], null and missing prompt ids are one key in Python (tuple([]) == ()): only the last survives', async () => {
    const rolloutId = await createRollout(gateway.url, KEY)
    await postEvent(rolloutId, modelRequest({ error: { message: 'first' } }, { http_status: 400 }))
    await postEvent(rolloutId, modelRequest({ prompt_token_ids: null, choices: [] }))
    await postEvent(rolloutId, modelRequest({ error: { message: 'last' } }, { http_status: 500 }))
    const view = await triplets(rolloutId)
    expect(view).toHaveLength(1)
    expect(view[0]?.data).toMatchObject({
      prompt_token_ids: [],
      error: { message: 'last' },
      http_status: 500,
    })
  })

  test('a null top-level prompt_token_ids with no choices stays null in the view', async () => {
    const rolloutId = await createRollout(gateway.url, KEY)
    await postEvent(rolloutId, modelRequest({ prompt_token_ids: null, choices: [] }))
    expect((await triplets(rolloutId))[0]?.data.prompt_token_ids).toBeNull()
  })

  test('reward events keep value, source and reason; message and other keys are dropped; all rewards listed', async () => {
    const rolloutId = await createRollout(gateway.url, KEY)
    await postEvent(rolloutId, {
      event_type: 'reward',
      data: { value: 0, message: 'first try', extra: 'drop' },
    })
    await postEvent(rolloutId, {
      event_type: 'reward',
      data: { value: 1, source: 'agent', reason: 'matched', message: 'm' },
    })
    const view = await triplets(rolloutId, '&event_type=reward')
    // the trainer (AglRolloutManager) reads only the last reward event
    expect(view.map((event) => event.data)).toEqual([
      { value: 0 },
      { value: 1, source: 'agent', reason: 'matched' },
    ])
  })

  test('the legacy list-of-chunks response: first prompt ids, response ids concatenated', async () => {
    const rolloutId = await createRollout(gateway.url, KEY)
    await postEvent(
      rolloutId,
      modelRequest([
        { prompt_token_ids: [5, 6], choices: [{ token_ids: [7] }] },
        { choices: [{ token_ids: [8, 9] }] },
        { choices: [] },
      ]),
    )
    const [event] = await triplets(rolloutId)
    expect(event?.data).toMatchObject({
      prompt_token_ids: [5, 6],
      response_token_ids: [7, 8, 9],
      response_log_probs: null,
    })
  })

  test('a hand-posted model_request the Python code cannot read is an unhandled 500', async () => {
    const rolloutId = await createRollout(gateway.url, KEY)
    await postEvent(rolloutId, modelRequest({ choices: 'not a list' }))
    const answer = await call(gateway.url, `/api/rollouts/${rolloutId}/events?format=triplet`, { key: KEY })
    expect(answer.status).toBe(500)
    expect(answer.text).toBe('Internal Server Error')
  })
})

describe('the events API', () => {
  test('POST returns the stored event; data defaults to {}; unknown rollout 404; bad body 422', async () => {
    const rolloutId = await createRollout(gateway.url, KEY)
    const posted = await postEvent(rolloutId, { event_type: 'started' })
    expect(posted.status).toBe(200)
    const event = posted.json as Record<string, unknown>
    expect(Object.keys(event)).toEqual(['event_type', 'rollout_id', 'attempt_id', 'timestamp', 'data'])
    expect(event).toMatchObject({ event_type: 'started', rollout_id: rolloutId, attempt_id: '0', data: {} })
    expect((await postEvent('ghost', { event_type: 'x' })).text).toBe('{"detail":"Rollout not found: ghost"}')
    const bad = await postEvent(rolloutId, { event_type: 5, data: [] })
    expect(bad.status).toBe(422)
    expect(bad.json).toEqual({
      detail: [
        { type: 'string_type', loc: ['body', 'event_type'], msg: 'Input should be a valid string', input: 5 },
        { type: 'dict_type', loc: ['body', 'data'], msg: 'Input should be a valid dictionary', input: [] },
      ],
    })
  })

  test('queries read only the rollout\'s last attempt ("0" until last_attempt_id says otherwise)', async () => {
    const rolloutId = await createRollout(gateway.url, KEY)
    await postEvent(rolloutId, { event_type: 'reward', data: { value: 0 } }, '0')
    await postEvent(rolloutId, { event_type: 'reward', data: { value: 1 } }, '1')
    expect((await triplets(rolloutId)).map((event) => event.data.value)).toEqual([0])
    await call(gateway.url, `/api/rollouts/${rolloutId}`, {
      method: 'PATCH',
      body: { status: { last_attempt_id: '1' } },
      key: KEY,
    })
    expect((await triplets(rolloutId)).map((event) => event.data.value)).toEqual([1])
    expect(gateway.events(rolloutId).map((event) => event.attempt_id)).toEqual(['0', '1'])
  })
})
