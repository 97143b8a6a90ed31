import { InvalidOptionError } from '@vllm-tito/spec'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { call, createRollout } from './__fixtures__/gateway-client'
import type { MockAgentLightningServer } from './mock-agent-lightning-options'
import { startMockAgentLightning } from './start-mock-agent-lightning'

const KEY = 'gateway-secret'
let gateway: MockAgentLightningServer

beforeAll(async () => {
  gateway = await startMockAgentLightning({ key: KEY })
})

afterAll(() => gateway.close())

describe('authentication (verify_key)', () => {
  test('GET /healthz needs no key', async () => {
    const health = await call(gateway.url, '/healthz')
    expect(health.status).toBe(200)
    expect(health.json).toEqual({ status: 'ok' })
  })

  test.each([
    ['no header', {}],
    ['a wrong bearer key', { authorization: 'Bearer nope' }],
    ['a lower-case "bearer" scheme', { authorization: `bearer ${KEY}` }],
    ['the key without a scheme', { authorization: KEY }],
    ['a wrong x-api-key', { 'x-api-key': 'nope' }],
  ])('%s: 401 {"detail":"Invalid or missing API key"}', async (_label, headers) => {
    const answer = await call(gateway.url, '/api/rollouts?state_in=queuing', { headers })
    expect(answer.status).toBe(401)
    expect(answer.text).toBe('{"detail":"Invalid or missing API key"}')
    expect(answer.headers.get('content-type')).toBe('application/json')
  })

  test('Authorization: Bearer <key> and x-api-key: <key> are both accepted', async () => {
    const bearer = await call(gateway.url, '/api/rollouts?state_in=queuing', { key: KEY })
    const apiKey = await call(gateway.url, '/api/rollouts?state_in=queuing', {
      headers: { 'x-api-key': KEY },
    })
    expect(bearer.status).toBe(200)
    expect(apiKey.status).toBe(200)
  })

  test('an empty key disables authentication', async () => {
    const open = await startMockAgentLightning()
    try {
      expect(open.key).toBe('')
      expect((await call(open.url, '/api/rollouts', { body: [{ input: 1 }] })).status).toBe(201)
    } finally {
      await open.close()
    }
  })
})

describe('routing (Starlette)', () => {
  test('an unknown path is 404 {"detail":"Not Found"} before any key check', async () => {
    const answer = await call(gateway.url, '/api/nothing-here')
    expect(answer.status).toBe(404)
    expect(answer.text).toBe('{"detail":"Not Found"}')
  })

  test('a known path with another method is 405 {"detail":"Method Not Allowed"} before any key check', async () => {
    const answer = await call(gateway.url, '/api/models')
    expect(answer.status).toBe(405)
    expect(answer.text).toBe('{"detail":"Method Not Allowed"}')
    expect(answer.headers.get('allow')).toBe('POST')
  })

  test('a trailing slash is redirected (307) to the route without it', async () => {
    const answer = await call(gateway.url, '/api/rollouts/?state_in=queuing', { key: KEY })
    expect(answer.status).toBe(307)
    expect(answer.headers.get('location')).toBe(`${gateway.url}/api/rollouts?state_in=queuing`)
  })

  test('a body that is not JSON is a 422 json_invalid even without a key (FastAPI parses it first)', async () => {
    const answer = await call(gateway.url, '/api/rollouts', { body: '[{"input": ' })
    expect(answer.status).toBe(422)
    const detail = (answer.json as { detail: Array<Record<string, unknown>> }).detail
    expect(detail).toHaveLength(1)
    expect(detail[0]).toMatchObject({ type: 'json_invalid', msg: 'JSON decode error', input: {} })
    expect((detail[0]!.loc as unknown[])[0]).toBe('body')
  })

  test('path parameters are percent-decoded before routing, as uvicorn does', async () => {
    const rolloutId = await createRollout(gateway.url, KEY, { rollout_id: 'batch 7/é', input: null })
    expect(rolloutId).toBe('batch 7/é')
    // an encoded "/" becomes a separator, so that id cannot be addressed at all
    const encoded = encodeURIComponent(rolloutId)
    expect((await call(gateway.url, `/api/rollouts/${encoded}`, { key: KEY })).status).toBe(404)
    await createRollout(gateway.url, KEY, { rollout_id: 'batch 7', input: null })
    const found = await call(gateway.url, '/api/rollouts/batch%207', { key: KEY })
    expect(found.status).toBe(200)
    expect((found.json as { rollout: { rollout_id: string } }).rollout.rollout_id).toBe('batch 7')
  })

  test('every request is logged with method, raw URL, headers and body', async () => {
    const before = gateway.requests.length
    await call(gateway.url, '/api/rollouts', { body: [{ input: { n: 1 } }], key: KEY })
    const logged = gateway.requests.slice(before)
    expect(logged).toHaveLength(1)
    expect(logged[0]).toMatchObject({ method: 'POST', url: '/api/rollouts', body: '[{"input":{"n":1}}]' })
    expect(logged[0]?.headers.authorization).toBe(`Bearer ${KEY}`)
  })
})

describe('options', () => {
  test.each([
    [{ key: 1 }, 'startMockAgentLightning: option `key` must be a string, got 1'],
    [
      { port: 70_000 },
      'startMockAgentLightning: option `port` must be an integer from 0 to 65535, got 70000',
    ],
    [
      { models: [{ model: 'm' }] },
      'startMockAgentLightning: models[0]: option `endpoint` is required (a string)',
    ],
    [{ modelname: 'm' }, 'startMockAgentLightning: unknown option `modelname` (did you mean `modelName`?)'],
  ])('%j is refused with InvalidOptionError', async (options, message) => {
    const attempt = startMockAgentLightning(options as never)
    await expect(attempt).rejects.toThrow(InvalidOptionError)
    await expect(startMockAgentLightning(options as never)).rejects.toThrow(message)
  })
})
