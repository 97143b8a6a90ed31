import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { call, createRollout } from './__fixtures__/gateway-client'
import type { Rollout } from './gateway-schemas'
import type { MockAgentLightningServer } from './mock-agent-lightning-options'
import { startMockAgentLightning } from './start-mock-agent-lightning'

const KEY = 'k'
let gateway: MockAgentLightningServer

beforeAll(async () => {
  gateway = await startMockAgentLightning({ key: KEY })
})

afterAll(() => gateway.close())

const patch = (rolloutId: string, status: unknown) =>
  call(gateway.url, `/api/rollouts/${rolloutId}`, { method: 'PATCH', body: { status }, key: KEY })

describe('POST /api/rollouts', () => {
  test('creates [{rollout_id, input, is_train, config, metadata, status}] with the gateway defaults (201)', async () => {
    const before = Date.now() / 1000
    const created = await call(gateway.url, '/api/rollouts', {
      body: [{ input: { question: 'q', answer: 'a' }, metadata: { batch_idx: 1, epoch: 3 } }],
      key: KEY,
    })
    expect(created.status).toBe(201)
    const [rollout] = created.json as Rollout[]
    expect(Object.keys(rollout!)).toEqual(['rollout_id', 'input', 'is_train', 'config', 'metadata', 'status'])
    expect(rollout!.rollout_id).toMatch(/^[0-9a-f]{32}$/)
    expect(rollout!.input).toEqual({ question: 'q', answer: 'a' })
    expect(rollout!.is_train).toBe(true)
    expect(rollout!.config).toEqual({ timeout_seconds: 3600, local: null, k8s: null })
    expect(rollout!.metadata).toEqual({ batch_idx: 1, sample_idx_in_batch: null, epoch: 3 })
    expect(rollout!.status).toMatchObject({
      state: 'queuing',
      k8s_job_name: null,
      last_attempt_id: null,
      error_message: null,
      version: 1,
    })
    expect(rollout!.status.created_at).toBe(rollout!.status.updated_at)
    expect(rollout!.status.created_at).toBeGreaterThanOrEqual(before - 1)
  })

  test('a config with local and k8s sections is kept, defaults filled in', async () => {
    const created = await call(gateway.url, '/api/rollouts', {
      body: [
        {
          input: 1,
          is_train: 'false',
          config: {
            local: { agent_class: 'ts_agent:Agent', env_map: { QUESTION: 'input.question' } },
            k8s: {},
          },
        },
      ],
      key: KEY,
    })
    const [rollout] = created.json as Rollout[]
    expect(rollout!.is_train).toBe(false)
    expect(rollout!.config).toEqual({
      timeout_seconds: 3600,
      local: { agent_class: 'ts_agent:Agent', env_map: { QUESTION: 'input.question' } },
      k8s: { job_template: null },
    })
  })

  test('a known rollout_id returns the existing rollout unchanged (idempotent creation)', async () => {
    const first = await call(gateway.url, '/api/rollouts', {
      body: [{ rollout_id: 'fixed-1', input: 'a' }],
      key: KEY,
    })
    const again = await call(gateway.url, '/api/rollouts', {
      body: [{ rollout_id: 'fixed-1', input: 'DIFFERENT' }],
      key: KEY,
    })
    expect(again.status).toBe(201)
    expect(again.json).toEqual(first.json)
  })

  test.each([
    ['a missing body', undefined, [{ type: 'missing', loc: ['body'], msg: 'Field required', input: null }]],
    [
      'an object instead of a list',
      { input: 1 },
      [{ type: 'list_type', loc: ['body'], msg: 'Input should be a valid list', input: { input: 1 } }],
    ],
    [
      'a missing input',
      [{ is_train: true }],
      [{ type: 'missing', loc: ['body', 0, 'input'], msg: 'Field required', input: { is_train: true } }],
    ],
    [
      'a bad is_train and rollout_id',
      [{ input: 1, is_train: 'maybe', rollout_id: 7 }],
      [
        {
          type: 'bool_parsing',
          loc: ['body', 0, 'is_train'],
          msg: 'Input should be a valid boolean, unable to interpret input',
          input: 'maybe',
        },
        {
          type: 'string_type',
          loc: ['body', 0, 'rollout_id'],
          msg: 'Input should be a valid string',
          input: 7,
        },
      ],
    ],
    [
      'metadata that is neither model nor dict',
      [{ input: 1, metadata: 'x' }],
      [
        {
          type: 'model_type',
          loc: ['body', 0, 'metadata', 'RolloutMetadata'],
          msg: 'Input should be a valid dictionary or instance of RolloutMetadata',
          input: 'x',
          ctx: { class_name: 'RolloutMetadata' },
        },
        {
          type: 'dict_type',
          loc: ['body', 0, 'metadata', 'dict[str,any]'],
          msg: 'Input should be a valid dictionary',
          input: 'x',
        },
      ],
    ],
  ])('%s is a 422 with pydantic issues', async (_label, body, detail) => {
    const answer = await call(
      gateway.url,
      '/api/rollouts',
      body === undefined ? { method: 'POST', key: KEY } : { body, key: KEY },
    )
    expect(answer.status).toBe(422)
    expect(answer.json).toEqual({ detail })
  })

  test('metadata the model refuses inside the handler is an unhandled 500 Internal Server Error', async () => {
    const answer = await call(gateway.url, '/api/rollouts', {
      body: [{ input: 1, metadata: { batch_idx: 'x' } }],
      key: KEY,
    })
    expect(answer.status).toBe(500)
    expect(answer.text).toBe('Internal Server Error')
  })
})

describe('GET /api/rollouts and /api/rollouts/{id}', () => {
  test('lists by state_in (repeatable) in creation order, up to limit', async () => {
    const server = await startMockAgentLightning()
    try {
      const ids = []
      for (const name of ['a', 'b', 'c'])
        ids.push(await createRollout(server.url, '', { rollout_id: name, input: name }))
      await call(server.url, '/api/rollouts/b', { method: 'PATCH', body: { status: { state: 'running' } } })
      const list = async (query: string) =>
        ((await call(server.url, `/api/rollouts?${query}`)).json as Array<{ rollout_id: string }>).map(
          (item) => item.rollout_id,
        )
      expect(await list('state_in=queuing')).toEqual(['a', 'c'])
      expect(await list('state_in=running')).toEqual(['b'])
      expect(await list('state_in=queuing&state_in=running')).toEqual(['a', 'b', 'c'])
      expect(await list('state_in=queuing&state_in=running&limit=2')).toEqual(['a', 'b'])
    } finally {
      await server.close()
    }
  })

  test.each([
    ['', [{ type: 'missing', loc: ['query', 'state_in'], msg: 'Field required', input: null }]],
    [
      '?state_in=done',
      [
        {
          type: 'enum',
          loc: ['query', 'state_in', 0],
          msg: "Input should be 'queuing', 'running', 'succeeded' or 'failed'",
          input: 'done',
          ctx: { expected: "'queuing', 'running', 'succeeded' or 'failed'" },
        },
      ],
    ],
    [
      '?state_in=queuing&limit=ten',
      [
        {
          type: 'int_parsing',
          loc: ['query', 'limit'],
          msg: 'Input should be a valid integer, unable to parse string as an integer',
          input: 'ten',
        },
      ],
    ],
  ])('query %j is a 422', async (query, detail) => {
    const answer = await call(gateway.url, `/api/rollouts${query}`, { key: KEY })
    expect(answer.status).toBe(422)
    expect(answer.json).toEqual({ detail })
  })

  test('one rollout with its attempts (attempt ids with events, by first event time)', async () => {
    const rolloutId = await createRollout(gateway.url, KEY)
    expect((await call(gateway.url, `/api/rollouts/${rolloutId}`, { key: KEY })).json).toMatchObject({
      attempts: [],
    })
    for (const attempt of ['2', '0', '2']) {
      await call(gateway.url, `/api/rollouts/${rolloutId}/attempt/${attempt}/events`, {
        body: { event_type: 'note' },
        key: KEY,
      })
    }
    const detail = await call(gateway.url, `/api/rollouts/${rolloutId}`, { key: KEY })
    expect(detail.status).toBe(200)
    expect(detail.json).toMatchObject({ rollout: { rollout_id: rolloutId }, attempts: ['2', '0'] })
  })

  test('an unknown rollout is 404 {"detail":"Rollout not found: <id>"}', async () => {
    const answer = await call(gateway.url, '/api/rollouts/nope', { key: KEY })
    expect(answer.status).toBe(404)
    expect(answer.text).toBe('{"detail":"Rollout not found: nope"}')
  })
})

describe('PATCH /api/rollouts/{id}: the life-cycle state machine', () => {
  test('queuing → running → succeeded, each bumping version and updated_at, other fields patched too', async () => {
    const rolloutId = await createRollout(gateway.url, KEY)
    const running = await patch(rolloutId, { state: 'running', k8s_job_name: 'job-1', last_attempt_id: '0' })
    expect(running.status).toBe(200)
    expect(running.json).toMatchObject({
      status: { state: 'running', k8s_job_name: 'job-1', last_attempt_id: '0', version: 2 },
    })
    const done = await patch(rolloutId, { state: 'succeeded' })
    expect(done.json).toMatchObject({ status: { state: 'succeeded', k8s_job_name: 'job-1', version: 3 } })
    const status = (done.json as { status: { updated_at: number; created_at: number } }).status
    expect(status.updated_at).toBeGreaterThanOrEqual(status.created_at)
  })

  test.each([
    [['running'], 'queuing', 'running -> queuing'],
    [['running'], 'running', 'running -> running'],
    [[], 'succeeded', 'queuing -> succeeded'],
    [['running', 'succeeded'], 'failed', 'succeeded -> failed'],
    [['failed'], 'running', 'failed -> running'],
    [[], null, 'queuing -> None'],
  ])('after %j, state %j is a 409 "cannot transition %s"', async (path, next, transition) => {
    const rolloutId = await createRollout(gateway.url, KEY)
    for (const step of path) expect((await patch(rolloutId, { state: step })).status).toBe(200)
    const refused = await patch(rolloutId, { state: next })
    expect(refused.status).toBe(409)
    expect(refused.json).toEqual({ detail: `Rollout ${rolloutId}: cannot transition ${transition}` })
  })

  test('queuing → failed is allowed', async () => {
    const rolloutId = await createRollout(gateway.url, KEY)
    expect((await patch(rolloutId, { state: 'failed', error_message: 'spawn failed' })).json).toMatchObject({
      status: { state: 'failed', error_message: 'spawn failed' },
    })
  })

  test('an unknown state or status field is a 422; an empty patch returns the rollout unchanged', async () => {
    const rolloutId = await createRollout(gateway.url, KEY)
    const unknownState = await patch(rolloutId, { state: 'cancelled' })
    expect(unknownState.status).toBe(422)
    expect(
      (unknownState.json as { detail: Array<{ type: string; loc: unknown[] }> }).detail.map((issue) => [
        issue.type,
        issue.loc,
      ]),
    ).toEqual([['enum', ['body', 'status', 'state']]])
    const extra = await patch(rolloutId, { cancel_requested: true })
    expect(extra.json).toEqual({
      detail: [
        {
          type: 'extra_forbidden',
          loc: ['body', 'status', 'cancel_requested'],
          msg: 'Extra inputs are not permitted',
          input: true,
        },
      ],
    })
    const untouched = await call(gateway.url, `/api/rollouts/${rolloutId}`, {
      method: 'PATCH',
      body: {},
      key: KEY,
    })
    expect(untouched.status).toBe(200)
    expect(untouched.json).toMatchObject({ status: { state: 'queuing', version: 1 } })
  })

  test('an unknown rollout: 404 after the body was validated', async () => {
    expect((await patch('ghost', { state: 'running' })).text).toBe('{"detail":"Rollout not found: ghost"}')
    expect((await patch('ghost', { state: 'gone' })).status).toBe(422)
  })
})
