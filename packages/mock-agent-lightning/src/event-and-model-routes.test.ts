import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { call } from './__fixtures__/gateway-client'
import type { MockAgentLightningServer } from './mock-agent-lightning-options'
import { startMockAgentLightning } from './start-mock-agent-lightning'

const KEY = 'k'
let gateway: MockAgentLightningServer

beforeAll(async () => {
  gateway = await startMockAgentLightning({
    key: KEY,
    models: [{ model: 'policy', endpoint: 'http://a:8000/v1' }],
  })
})

afterAll(() => gateway.close())

describe('POST /api/models and DELETE /api/models', () => {
  test('registers servers (201, version defaulting to 0), upserting by model and endpoint', async () => {
    const created = await call(gateway.url, '/api/models', {
      body: [
        { model: 'policy', endpoint: 'http://b:8000/v1' },
        { model: 'policy', endpoint: 'http://a:8000/v1', version: 3 },
      ],
      key: KEY,
    })
    expect(created.status).toBe(201)
    expect(created.json).toEqual([
      { model: 'policy', endpoint: 'http://b:8000/v1', version: 0 },
      { model: 'policy', endpoint: 'http://a:8000/v1', version: 3 },
    ])
    expect(gateway.models()).toEqual([
      { model: 'policy', endpoint: 'http://a:8000/v1', version: 3 },
      { model: 'policy', endpoint: 'http://b:8000/v1', version: 0 },
    ])
  })

  test('a bad item is a 422 naming each field', async () => {
    const answer = await call(gateway.url, '/api/models', {
      body: [{ model: 'policy', version: 1.5 }],
      key: KEY,
    })
    expect(answer.status).toBe(422)
    expect(answer.json).toEqual({
      detail: [
        {
          type: 'missing',
          loc: ['body', 0, 'endpoint'],
          msg: 'Field required',
          input: { model: 'policy', version: 1.5 },
        },
        {
          type: 'int_from_float',
          loc: ['body', 0, 'version'],
          msg: 'Input should be a valid integer, got a number with a fractional part',
          input: 1.5,
        },
      ],
    })
  })

  test('DELETE removes every server and answers {"status":"ok"}', async () => {
    const deleted = await call(gateway.url, '/api/models', { method: 'DELETE', key: KEY })
    expect(deleted.status).toBe(200)
    expect(deleted.json).toEqual({ status: 'ok' })
    expect(gateway.models()).toEqual([])
  })
})
