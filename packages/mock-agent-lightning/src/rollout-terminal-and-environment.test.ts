import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { call, createRollout } from './__fixtures__/gateway-client'
import type { MockAgentLightningServer } from './mock-agent-lightning-options'
import { startMockAgentLightning } from './start-mock-agent-lightning'

const KEY = 'k'
let gateway: MockAgentLightningServer

beforeAll(async () => {
  gateway = await startMockAgentLightning({ key: KEY })
})

afterAll(() => gateway.close())

describe('terminal rollouts and deletion', () => {
  test('GET /api/rollouts/terminal pages through rollouts in completion order', async () => {
    const server = await startMockAgentLightning()
    try {
      const finish = async (name: string, isTrain: boolean) => {
        await createRollout(server.url, '', {
          rollout_id: name,
          input: { data_id: `d-${name}` },
          is_train: isTrain,
        })
        await call(server.url, `/api/rollouts/${name}`, {
          method: 'PATCH',
          body: { status: { state: 'running' } },
        })
        await call(server.url, `/api/rollouts/${name}`, {
          method: 'PATCH',
          body: { status: { state: 'succeeded' } },
        })
      }
      await createRollout(server.url, '', { rollout_id: 'pending', input: {} })
      await finish('x', true)
      await finish('y', false)
      await finish('z', true)
      const page = await call(server.url, '/api/rollouts/terminal?after=0&limit=2')
      expect(page.json).toEqual({
        items: [
          { rollout_id: 'x', state: 'succeeded', data_id: 'd-x', is_train: true },
          { rollout_id: 'y', state: 'succeeded', data_id: 'd-y', is_train: false },
        ],
        next_after: 2,
        total_terminal: 3,
      })
      expect((await call(server.url, '/api/rollouts/terminal?after=3')).json).toEqual({
        items: [],
        next_after: 3,
        total_terminal: 3,
      })
    } finally {
      await server.close()
    }
  })

  test('DELETE removes the rollout and its events (204), and is idempotent', async () => {
    const rolloutId = await createRollout(gateway.url, KEY)
    const deleted = await call(gateway.url, `/api/rollouts/${rolloutId}`, { method: 'DELETE', key: KEY })
    expect(deleted.status).toBe(204)
    expect(deleted.text).toBe('')
    expect((await call(gateway.url, `/api/rollouts/${rolloutId}`, { key: KEY })).status).toBe(404)
    expect((await call(gateway.url, `/api/rollouts/${rolloutId}/events`, { key: KEY })).status).toBe(404)
    expect(
      (await call(gateway.url, `/api/rollouts/${rolloutId}`, { method: 'DELETE', key: KEY })).status,
    ).toBe(204)
  })
})

describe('agentEnvironment', () => {
  test('the three variables as the local reconciler builds them; val for is_train false', async () => {
    const train = await createRollout(gateway.url, KEY, { rollout_id: 'env-train', input: 1 })
    const val = await createRollout(gateway.url, KEY, { rollout_id: 'env-val', input: 1, is_train: false })
    expect(gateway.agentEnvironment(train)).toEqual({
      AGL_OPENAI_BASE_URL: `${gateway.url}/proxy/rollout/env-train/attempt/0/mode/train/openai/v1`,
      AGL_EVENT_URL: `${gateway.url}/api/rollouts/env-train/attempt/0/events`,
      AGL_KEY: KEY,
    })
    expect(gateway.agentEnvironment(val).AGL_OPENAI_BASE_URL).toBe(
      `${gateway.url}/proxy/rollout/env-val/attempt/0/mode/val/openai/v1`,
    )
    expect(() => gateway.agentEnvironment('unknown')).toThrow(
      'agentEnvironment: no rollout "unknown"; create it with POST /api/rollouts first',
    )
  })
})
