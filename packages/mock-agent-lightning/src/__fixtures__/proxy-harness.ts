import { type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import { afterAll, afterEach, beforeAll } from 'vitest'
import type { MockAgentLightningOptions, MockAgentLightningServer } from '../mock-agent-lightning-options'
import { startMockAgentLightning } from '../start-mock-agent-lightning'
import { call, createRollout } from './gateway-client'

/** The gateway key of the proxy tests. */
export const KEY = 'proxy-key'
/** The model the gateway is configured with (what it writes into every proxied request). */
export const MODEL = 'Qwen/Qwen3-8B'

/** A chat body as an agent sends it: a model name of its own, a temperature the gateway overrides. */
export const chat = {
  model: 'whatever-the-agent-says',
  messages: [{ role: 'user', content: 'Hi' }],
  max_tokens: 32,
  temperature: 0.1,
  seed: 3,
}

/** An event the gateway stored, as `GET /api/rollouts/{rid}/events` lists it. */
export interface StoredEvent {
  event_type: string
  attempt_id: string
  data: Record<string, unknown>
}

/** What the proxy tests of one file share. */
export interface ProxyHarness {
  /** The file's mock-vllm (started before its tests). */
  readonly vllm: MockVllmServer
  /** Starts a gateway whose models are `endpoint` (closed after the test) and creates a rollout on it. */
  gatewayFor(
    endpoint: string | string[],
    options?: MockAgentLightningOptions,
  ): Promise<{ gateway: MockAgentLightningServer; rolloutId: string }>
  /** Closes a gateway the test started itself after the test, with the others. */
  closeAfterTest(gateway: MockAgentLightningServer): void
  /** The events the gateway stored for `rolloutId`. */
  storedEvents(gateway: MockAgentLightningServer, rolloutId: string, query?: string): Promise<StoredEvent[]>
}

/**
 * Registers the hooks of a proxy test file: one mock-vllm for the file, and every gateway a test starts
 * closed after it. Upstream retries wait 1–4 ms, so retry tests run fast.
 */
export function proxyHarness(): ProxyHarness {
  let vllm: MockVllmServer | undefined
  const gateways: MockAgentLightningServer[] = []
  beforeAll(async () => {
    vllm = await startMockVllm({ policy: { script: ['Hello there!'] } })
  })
  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((gateway) => gateway.close()))
  })
  afterAll(() => vllm?.close())
  return {
    get vllm() {
      if (vllm === undefined) throw new Error('the harness mock-vllm starts in beforeAll')
      return vllm
    },
    async gatewayFor(endpoint, options = {}) {
      const endpoints = Array.isArray(endpoint) ? endpoint : [endpoint]
      const gateway = await startMockAgentLightning({
        key: KEY,
        models: endpoints.map((entry) => ({ model: MODEL, endpoint: entry, version: 7 })),
        upstreamRetryBaseDelayMs: 1,
        upstreamRetryCapDelayMs: 4,
        ...options,
      })
      gateways.push(gateway)
      const rolloutId = await createRollout(gateway.url, KEY)
      return { gateway, rolloutId }
    },
    closeAfterTest(gateway) {
      gateways.push(gateway)
    },
    async storedEvents(gateway, rolloutId, query = '') {
      const answer = await call(gateway.url, `/api/rollouts/${rolloutId}/events${query}`, { key: KEY })
      return answer.json as StoredEvent[]
    },
  }
}
