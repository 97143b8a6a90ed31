import { describe, expect, test } from 'vitest'
import { fixedUpstream } from './__fixtures__/fixed-upstream'
import { call, createRollout, proxyPath } from './__fixtures__/gateway-client'
import { chat, KEY, MODEL, proxyHarness } from './__fixtures__/proxy-harness'
import { startMockAgentLightning } from './start-mock-agent-lightning'

const harness = proxyHarness()

const lastVllmBody = () => harness.vllm.requests.at(-1)?.body as Record<string, unknown>

describe('request rewriting (ProxyRouter.prepare_body)', () => {
  test('train: model replaced, temperature forced to 1, return_token_ids and logprobs added, the rest kept', async () => {
    const { gateway, rolloutId } = await harness.gatewayFor(`${harness.vllm.baseUrl}/v1`)
    const answer = await call(gateway.url, proxyPath(rolloutId), { body: chat, key: KEY })
    expect(answer.status).toBe(200)
    expect(harness.vllm.requests.at(-1)?.path).toBe('/v1/chat/completions')
    expect(lastVllmBody()).toEqual({
      model: MODEL,
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 32,
      temperature: 1,
      seed: 3,
      return_token_ids: true,
      logprobs: true,
    })
    // the agent's key is not forwarded to the model server
    expect(harness.vllm.requests.at(-1)?.headers.authorization).toBeUndefined()
  })

  test('val: temperature forced to 0.7 and no logprobs added (an agent-sent logprobs stays)', async () => {
    const { gateway, rolloutId } = await harness.gatewayFor(`${harness.vllm.baseUrl}/v1`)
    await call(gateway.url, proxyPath(rolloutId, 'val'), { body: chat, key: KEY })
    expect(lastVllmBody()).toEqual({ ...chat, model: MODEL, temperature: 0.7, return_token_ids: true })
    await call(gateway.url, proxyPath(rolloutId, 'val'), {
      body: { ...chat, logprobs: true, top_logprobs: 2 },
      key: KEY,
    })
    expect(lastVllmBody()).toMatchObject({ logprobs: true, top_logprobs: 2, temperature: 0.7 })
  })

  test('include_log_probs false: train mode adds no logprobs; temperatures are configurable', async () => {
    const { gateway, rolloutId } = await harness.gatewayFor(`${harness.vllm.baseUrl}/v1`, {
      includeLogProbs: false,
      trainTemperature: 0.9,
    })
    await call(gateway.url, proxyPath(rolloutId), { body: chat, key: KEY })
    expect(lastVllmBody()).toEqual({ ...chat, model: MODEL, temperature: 0.9, return_token_ids: true })
  })

  test('/completions in train mode gets logprobs: true too, which vLLM (and mock-vllm) reads as logprobs=1', async () => {
    const { gateway, rolloutId } = await harness.gatewayFor(`${harness.vllm.baseUrl}/v1`)
    const answer = await call(gateway.url, proxyPath(rolloutId, 'train', 'completions'), {
      body: { prompt: 'Hi', max_tokens: 4 },
      key: KEY,
    })
    expect(harness.vllm.requests.at(-1)?.path).toBe('/v1/completions')
    expect(lastVllmBody()).toEqual({
      prompt: 'Hi',
      max_tokens: 4,
      model: MODEL,
      temperature: 1,
      return_token_ids: true,
      logprobs: true,
    })
    // vLLM's pydantic (lax mode) reads `true` for the int field as logprobs=1, and so does mock-vllm
    expect(answer.status).toBe(200)
    const choice = (answer.json as { choices: Array<{ logprobs: { token_logprobs: number[] } }> }).choices[0]!
    expect(choice.logprobs.token_logprobs).toHaveLength(4)
    const [event] = await harness.storedEvents(gateway, rolloutId)
    expect(event?.data).toMatchObject({ http_status: 200, status: 'ok' })
  })
})

describe('forwarding and the model_request event', () => {
  test('the upstream body comes back with its status, and is stored with the fields the gateway stores', async () => {
    const { gateway, rolloutId } = await harness.gatewayFor(`${harness.vllm.baseUrl}/v1/`)
    const answer = await call(gateway.url, proxyPath(rolloutId), { body: chat, key: KEY })
    const body = answer.json as Record<string, unknown>
    expect(body.object).toBe('chat.completion')
    expect(Array.isArray(body.prompt_token_ids)).toBe(true)
    const events = await harness.storedEvents(gateway, rolloutId)
    expect(events).toHaveLength(1)
    const event = events[0]!
    expect(event.event_type).toBe('model_request')
    expect(event.attempt_id).toBe('0')
    expect(Object.keys(event.data)).toEqual([
      'model',
      'model_version',
      'request',
      'response',
      'server',
      'latency_ms',
      'http_status',
      'status',
      'retry_count',
      'usage',
      'finish_reason',
    ])
    expect(event.data).toMatchObject({
      model: MODEL,
      model_version: 7,
      request: lastVllmBody(),
      response: body,
      server: { model: MODEL, endpoint: `${harness.vllm.baseUrl}/v1/`, version: 7 },
      http_status: 200,
      status: 'ok',
      retry_count: 0,
      usage: body.usage,
      finish_reason: 'stop',
    })
    expect(event.data.latency_ms).toBeGreaterThan(0)
  })

  test('an upstream body is passed back as JSON-equal, whatever it holds, with the upstream status', async () => {
    const odd = { choices: [], nested: { unicode: 'é ✓', list: [1, 2.5, null, true] }, usage: 'not-a-dict' }
    const upstream = await fixedUpstream(418, 'application/json; charset=utf-8', JSON.stringify(odd))
    try {
      const { gateway, rolloutId } = await harness.gatewayFor(upstream.endpoint)
      const answer = await call(gateway.url, proxyPath(rolloutId), { body: chat, key: KEY })
      expect(answer.status).toBe(418)
      expect(answer.json).toEqual(odd)
      const [event] = await harness.storedEvents(gateway, rolloutId)
      expect(event?.data).toMatchObject({
        http_status: 418,
        status: 'error',
        usage: null,
        finish_reason: null,
        retry_count: 0,
      })
    } finally {
      await upstream.close()
    }
  })

  test('a non-JSON upstream answer becomes {} with the upstream status', async () => {
    const upstream = await fixedUpstream(200, 'text/plain', 'plain words')
    try {
      const { gateway, rolloutId } = await harness.gatewayFor(upstream.endpoint)
      const answer = await call(gateway.url, proxyPath(rolloutId), { body: chat, key: KEY })
      expect(answer.status).toBe(200)
      expect(answer.text).toBe('{}')
      expect((await harness.storedEvents(gateway, rolloutId))[0]?.data.response).toEqual({})
    } finally {
      await upstream.close()
    }
  })
})

describe('refusals', () => {
  test('stream: true is a 400 {"detail":"Streaming responses are not supported"}; nothing is forwarded', async () => {
    const { gateway, rolloutId } = await harness.gatewayFor(`${harness.vllm.baseUrl}/v1`)
    const before = harness.vllm.requests.length
    const answer = await call(gateway.url, proxyPath(rolloutId), {
      body: { ...chat, stream: true },
      key: KEY,
    })
    expect(answer.status).toBe(400)
    expect(answer.text).toBe('{"detail":"Streaming responses are not supported"}')
    expect(harness.vllm.requests.length).toBe(before)
    expect(await harness.storedEvents(gateway, rolloutId)).toEqual([])
  })

  test('a falsy stream (false, 0) is forwarded as a normal call', async () => {
    const { gateway, rolloutId } = await harness.gatewayFor(`${harness.vllm.baseUrl}/v1`)
    expect(
      (await call(gateway.url, proxyPath(rolloutId), { body: { ...chat, stream: false }, key: KEY })).status,
    ).toBe(200)
  })

  test.each([
    [
      'an unknown upstream path',
      (id: string) => proxyPath(id, 'train', 'models'),
      404,
      '{"detail":"Unsupported upstream path: models"}',
    ],
    [
      'a nested unknown path',
      (id: string) => proxyPath(id, 'train', 'chat/completions/x'),
      404,
      '{"detail":"Unsupported upstream path: chat/completions/x"}',
    ],
    [
      'an unknown mode',
      (id: string) => proxyPath(id, 'eval'),
      404,
      '{"detail":"Unsupported proxy mode: eval"}',
    ],
    ['an unknown rollout', () => proxyPath('ghost'), 404, '{"detail":"Rollout not found: ghost"}'],
  ])('%s: %i %s', async (_label, path, status, text) => {
    const { gateway, rolloutId } = await harness.gatewayFor(`${harness.vllm.baseUrl}/v1`)
    const answer = await call(gateway.url, path(rolloutId), { body: chat, key: KEY })
    expect(answer.status).toBe(status)
    expect(answer.text).toBe(text)
  })

  test('invalid JSON is a 400; a JSON body that is not an object is an unhandled 500', async () => {
    const { gateway, rolloutId } = await harness.gatewayFor(`${harness.vllm.baseUrl}/v1`)
    const broken = await call(gateway.url, proxyPath(rolloutId), { body: '{"messages": [', key: KEY })
    expect(broken.status).toBe(400)
    expect(broken.text).toBe('{"detail":"Invalid JSON in request body"}')
    const list = await call(gateway.url, proxyPath(rolloutId), { body: '[1, 2]', key: KEY })
    expect(list.status).toBe(500)
    expect(list.text).toBe('Internal Server Error')
  })

  test('no registered server for the model name: 503 with the gateway text', async () => {
    const gateway = await startMockAgentLightning({ key: KEY, modelName: 'policy' })
    harness.closeAfterTest(gateway)
    const rolloutId = await createRollout(gateway.url, KEY)
    const answer = await call(gateway.url, proxyPath(rolloutId), { body: chat, key: KEY })
    expect(answer.status).toBe(503)
    expect(answer.text).toBe(`{"detail":"No servers available for model 'policy'"}`)
  })

  test('the proxy needs the key like every other route', async () => {
    const { gateway, rolloutId } = await harness.gatewayFor(`${harness.vllm.baseUrl}/v1`)
    expect((await call(gateway.url, proxyPath(rolloutId), { body: chat })).status).toBe(401)
    expect(
      (await call(gateway.url, proxyPath(rolloutId), { body: chat, headers: { 'x-api-key': KEY } })).status,
    ).toBe(200)
  })
})
