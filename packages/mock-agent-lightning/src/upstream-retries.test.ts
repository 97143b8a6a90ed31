import { type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import { describe, expect, test } from 'vitest'
import { fixedUpstream } from './__fixtures__/fixed-upstream'
import { call, createRollout, proxyPath } from './__fixtures__/gateway-client'
import { chat, KEY, MODEL, proxyHarness } from './__fixtures__/proxy-harness'
import { startMockAgentLightning } from './start-mock-agent-lightning'

const harness = proxyHarness()

describe('upstream retries (_send_upstream_with_retries)', () => {
  test('503, 503, then 200: retried, the answer returned, retry_count 2', async () => {
    const flaky = await startMockVllm({
      policy: { script: ['Ok.'] },
      faults: [{ kind: 'http-status', status: 503, when: { requestIndex: [0, 1] } }],
    })
    try {
      const { gateway, rolloutId } = await harness.gatewayFor(`${flaky.baseUrl}/v1`)
      const answer = await call(gateway.url, proxyPath(rolloutId), { body: chat, key: KEY })
      expect(answer.status).toBe(200)
      expect(flaky.requests.filter((request) => request.path === '/v1/chat/completions')).toHaveLength(3)
      const [event] = await harness.storedEvents(gateway, rolloutId)
      expect(event?.data).toMatchObject({ retry_count: 2, http_status: 200, status: 'ok' })
    } finally {
      await flaky.close()
    }
  })

  test('a retryable status on every attempt: the last answer is passed back, retry_count = attempts - 1', async () => {
    const busy = await startMockVllm({ faults: [{ kind: 'http-status', status: 429 }] })
    try {
      const { gateway, rolloutId } = await harness.gatewayFor(`${busy.baseUrl}/v1`, {
        upstreamMaxAttempts: 3,
      })
      const answer = await call(gateway.url, proxyPath(rolloutId), { body: chat, key: KEY })
      expect(answer.status).toBe(429)
      expect(busy.requests.filter((request) => request.path === '/v1/chat/completions')).toHaveLength(3)
      expect((await harness.storedEvents(gateway, rolloutId))[0]?.data).toMatchObject({
        retry_count: 2,
        status: 'error',
      })
    } finally {
      await busy.close()
    }
  })

  test('a 400 from upstream is not retried', async () => {
    const { gateway, rolloutId } = await harness.gatewayFor(`${harness.vllm.baseUrl}/v1`)
    const before = harness.vllm.requests.length
    const answer = await call(gateway.url, proxyPath(rolloutId), {
      body: { ...chat, max_tokens: -1 },
      key: KEY,
    })
    expect(answer.status).toBe(400)
    expect(harness.vllm.requests.length - before).toBe(1)
  })

  test('no server listening: 502 {"detail":"Upstream model server request failed"} after every attempt, no event', async () => {
    const closed = await fixedUpstream(200, 'application/json', '{}')
    await closed.close()
    const { gateway, rolloutId } = await harness.gatewayFor(closed.endpoint, { upstreamMaxAttempts: 3 })
    const answer = await call(gateway.url, proxyPath(rolloutId), { body: chat, key: KEY })
    expect(answer.status).toBe(502)
    expect(answer.text).toBe('{"detail":"Upstream model server request failed"}')
    expect(await harness.storedEvents(gateway, rolloutId)).toEqual([])
  })

  test('no answer in time: 504 {"detail":"Upstream model server timed out"}', async () => {
    const silent = await fixedUpstream(0, '', '')
    try {
      const { gateway, rolloutId } = await harness.gatewayFor(silent.endpoint, {
        upstreamMaxAttempts: 2,
        upstreamTimeoutMs: 100,
      })
      const answer = await call(gateway.url, proxyPath(rolloutId), { body: chat, key: KEY })
      expect(answer.status).toBe(504)
      expect(answer.text).toBe('{"detail":"Upstream model server timed out"}')
      expect(silent.hits()).toBe(2)
    } finally {
      await silent.close()
    }
  })
})

describe('server selection and pause', () => {
  test('each rollout sticks to one server: sorted endpoints, SHA-256 of the rollout id modulo their number', async () => {
    const second = await startMockVllm({ policy: { script: ['Second.'] } })
    try {
      // expected indices computed with Python's hashlib: int.from_bytes(sha256(id)[:8], "big") % 2
      const expected: Record<string, MockVllmServer> = {}
      const sorted = [`${harness.vllm.baseUrl}/v1`, `${second.baseUrl}/v1`].sort()
      const byEndpoint = new Map([
        [`${harness.vllm.baseUrl}/v1`, harness.vllm],
        [`${second.baseUrl}/v1`, second],
      ])
      for (const [rolloutId, index] of [
        ['rollout-a', 1],
        ['rollout-b', 0],
        ['rollout-c', 1],
        ['rollout-d', 1],
      ] as const) {
        expected[rolloutId] = byEndpoint.get(sorted[index]!)!
      }
      const gateway = await startMockAgentLightning({
        key: KEY,
        models: [...byEndpoint.keys()].map((endpoint) => ({ model: MODEL, endpoint })),
      })
      harness.closeAfterTest(gateway)
      for (const [rolloutId, server] of Object.entries(expected)) {
        await createRollout(gateway.url, KEY, { rollout_id: rolloutId, input: null })
        for (let repeat = 0; repeat < 2; repeat += 1) {
          const before = server.requests.length
          expect((await call(gateway.url, proxyPath(rolloutId), { body: chat, key: KEY })).status).toBe(200)
          expect(server.requests.length).toBe(before + 1)
        }
      }
    } finally {
      await second.close()
    }
  })

  test('POST /proxy/pause: calls get 429 with Retry-After and X-Agl-Paused until /proxy/resume', async () => {
    const { gateway, rolloutId } = await harness.gatewayFor(`${harness.vllm.baseUrl}/v1`)
    const paused = await call(gateway.url, '/proxy/pause', {
      body: { retry_after_seconds: 9, reason: 'scale-down' },
      key: KEY,
    })
    expect(paused.json).toEqual({ paused: true, retry_after_seconds: 9, reason: 'scale-down', inflight: 0 })
    const refused = await call(gateway.url, proxyPath(rolloutId), { body: chat, key: KEY })
    expect(refused.status).toBe(429)
    expect(refused.text).toBe('{"error": "gateway paused", "reason": "scale-down"}')
    expect(refused.headers.get('retry-after')).toBe('9')
    expect(refused.headers.get('x-agl-paused')).toBe('true')
    expect((await call(gateway.url, '/proxy/state', { key: KEY })).json).toEqual({
      paused: true,
      retry_after_seconds: 9,
      reason: 'scale-down',
      inflight: 0,
    })
    expect((await call(gateway.url, '/proxy/resume', { method: 'POST', key: KEY })).json).toEqual({
      paused: false,
      retry_after_seconds: 9,
      reason: null,
      inflight: 0,
    })
    expect((await call(gateway.url, proxyPath(rolloutId), { body: chat, key: KEY })).status).toBe(200)
  })
})
