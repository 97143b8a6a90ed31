import { type MockAgentLightningServer, startMockAgentLightning } from '@vllm-tito/mock-agent-lightning'
import { type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import { type APICallError, type ChatRequest, StreamingUnsupportedError } from '@vllm-tito/spec'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { VLLMClient } from './vllm-client'

/**
 * The client against the Agent Lightning 1.0 gateway stand-in (in front of mock-vllm), through the per-rollout
 * base URL the controller hands out (`<gateway>/proxy/rollout/<id>/attempt/0/mode/<mode>/openai/v1`): the
 * gateway refuses streaming with FastAPI's `{"detail": …}` body and forwards non-streaming calls.
 */

const KEY = 'gateway-key'
const request: ChatRequest = { model: 'policy', messages: [{ role: 'user', content: 'What is 2 + 3?' }] }

let vllm: MockVllmServer
let gateway: MockAgentLightningServer

beforeAll(async () => {
  vllm = await startMockVllm({ policy: { script: ['It is 5.'] } })
  gateway = await startMockAgentLightning({
    key: KEY,
    models: [{ model: 'Qwen/Qwen3-8B', endpoint: `${vllm.baseUrl}/v1` }],
  })
})

afterAll(async () => {
  await gateway.close()
  await vllm.close()
})

async function newRollout(isTrain: boolean): Promise<string> {
  const answer = await fetch(`${gateway.url}/api/rollouts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify([{ input: { question: 'What is 2 + 3?' }, is_train: isTrain }]),
  })
  return ((await answer.json()) as Array<{ rollout_id: string }>)[0]!.rollout_id
}

async function clientFor(isTrain = true): Promise<{ client: VLLMClient; rolloutId: string }> {
  const rolloutId = await newRollout(isTrain)
  const environment = gateway.agentEnvironment(rolloutId)
  return { client: new VLLMClient({ baseUrl: environment.AGL_OPENAI_BASE_URL, apiKey: KEY }), rolloutId }
}

/** The response bodies of the rollout's `model_request` events, as the gateway stored them. */
function storedResponses(rolloutId: string): Array<Record<string, unknown>> {
  return gateway
    .events(rolloutId)
    .filter((event) => event.event_type === 'model_request')
    .map((event) => (event.data as { response: Record<string, unknown> }).response)
}

describe('through the Agent Lightning gateway', () => {
  it('a stream is refused with StreamingUnsupportedError, read from the detail body, after one request', async () => {
    const { client, rolloutId } = await clientFor()
    const before = gateway.requests.length
    const error = await client.chat
      .stream(request)
      .final()
      .catch((caught: unknown) => caught)
    expect(StreamingUnsupportedError.isInstance(error)).toBe(true)
    expect((error as StreamingUnsupportedError).message).toBe(
      'vLLM /v1/chat/completions returned HTTP 400: Streaming responses are not supported (this server takes only non-streaming calls: use create() or createEvents() instead of stream())',
    )
    expect((error as StreamingUnsupportedError).responseBody).toBe(
      '{"detail":"Streaming responses are not supported"}',
    )
    expect(gateway.requests.length - before).toBe(1)
    expect(gateway.requests.at(-1)?.url).toBe(
      `/proxy/rollout/${rolloutId}/attempt/0/mode/train/openai/v1/chat/completions`,
    )
    expect(storedResponses(rolloutId)).toEqual([])
  })

  it('create() and createEvents() go through the prefix; the records hold the ids the gateway stored', async () => {
    const { client, rolloutId } = await clientFor()
    const [created] = await client.chat.create(request)
    const events = client.chat.createEvents(request)
    for await (const _ of events) {
      // the events are checked against the stream elsewhere; here only what reaches the trainer matters
    }
    const [fromEvents] = await events.final()
    const stored = storedResponses(rolloutId)
    expect(stored).toHaveLength(2)
    for (const [index, record] of [created!, fromEvents!].entries()) {
      const choice = (stored[index]!.choices as Array<{ token_ids: number[] }>)[0]!
      expect(record.promptTokenIds).toEqual(stored[index]!.prompt_token_ids)
      expect(record.tokenIds).toEqual(choice.token_ids)
      expect(record.text).toBe('It is 5.')
      expect(record.model).toBe('Qwen/Qwen3-8B')
      expect(record.verification.status).toBe('verified')
    }
  })

  it('completions.create() goes through the same prefix (val mode: no logprobs forced on)', async () => {
    const { client, rolloutId } = await clientFor(false)
    const prompt = vllm.tokenizer.encodeChat(request.messages, { addGenerationPrompt: true })
    const [record] = await client.completions.create({ model: 'policy', prompt })
    expect(record?.promptTokenIds).toEqual(prompt)
    expect(gateway.requests.at(-1)?.url).toBe(
      `/proxy/rollout/${rolloutId}/attempt/0/mode/val/openai/v1/completions`,
    )
  })

  it("a rollout the gateway does not know is a 404 naming it, from the gateway's detail", async () => {
    const client = new VLLMClient({
      baseUrl: `${gateway.url}/proxy/rollout/ro-unknown/attempt/0/mode/train/openai/v1`,
      apiKey: KEY,
    })
    const error = (await client.chat.create(request).catch((caught: unknown) => caught)) as APICallError
    expect(error.statusCode).toBe(404)
    expect(error.message).toBe('vLLM /v1/chat/completions returned HTTP 404: Rollout not found: ro-unknown')
  })
})
