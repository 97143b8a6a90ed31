import { Message, TextBlock } from '@strands-agents/sdk'
import { VLLMClient } from '@vllm-tito/client'
import { type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import type { ChatRequest } from '@vllm-tito/spec'
import { VLLMModel } from '@vllm-tito/strands'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRolloutModelClient } from './rollout-model-client'

const MODEL = 'Qwen/Qwen3-8B'
let server: MockVllmServer

beforeAll(async () => {
  server = await startMockVllm({
    model: MODEL,
    policy: { script: (request) => `Reply ${request.requestIndex}.` },
  })
})
afterAll(async () => {
  await server.close()
})

const wrap = (signal = new AbortController().signal) =>
  createRolloutModelClient(new VLLMClient({ baseUrl: server.baseUrl }), signal)

const question: ChatRequest = {
  model: MODEL,
  messages: [{ role: 'user', content: 'Hello?' }],
  return_token_ids: true,
}

/** The chat and completion bodies the server received since `before`, as (path, streamed) pairs. */
const callsSince = (before: number) =>
  server.requests
    .slice(before)
    .filter((request) => request.path.startsWith('/v1/'))
    .map((request) => [request.path, (request.body as { stream?: boolean }).stream === true])

describe('the rollout model client', () => {
  it('runs a non-streaming VLLMModel call through chat.createEvents, counting it and keeping its record', async () => {
    const client = wrap()
    const model = new VLLMModel({ client, modelId: MODEL, returnTokenIds: true, stream: false })
    const before = server.requests.length
    const events = []
    for await (const event of model.stream([
      new Message({ role: 'user', content: [new TextBlock('Hello?')] }),
    ])) {
      events.push(event.type)
    }
    expect(events).toContain('modelMessageStopEvent')
    expect(callsSince(before)).toEqual([['/v1/chat/completions', false]])
    expect(client.calls).toEqual({ streamed: 0, nonStreamed: 1 })
    expect(client.records).toHaveLength(1)
    expect(client.records[0]!.verification.verified).toBe(true)
    expect(client.firstRequest?.messages).toEqual([{ role: 'user', content: 'Hello?' }])
  })

  it('counts chat.stream as streamed and chat.create as not, keeping the records of both in call order', async () => {
    const client = wrap()
    const before = server.requests.length
    const streamed = await client.chat.stream(question).final()
    const created = await client.chat.create(question)
    expect(callsSince(before)).toEqual([
      ['/v1/chat/completions', true],
      ['/v1/chat/completions', false],
    ])
    expect(client.calls).toEqual({ streamed: 1, nonStreamed: 1 })
    expect(client.records).toEqual([...streamed, ...created])
  })

  it('delegates completions (token in) in every mode and keeps their records, but not as the first chat request', async () => {
    const client = wrap()
    const prompt = (
      await client.tokenize({ model: MODEL, messages: question.messages, addGenerationPrompt: true })
    ).tokenIds
    const request = { model: MODEL, prompt, max_tokens: 8, return_token_ids: true }
    const before = server.requests.length
    const fromEvents = await client.completions.createEvents(request).final()
    const fromStream = await client.completions.stream(request).final()
    const fromCreate = await client.completions.create(request)
    expect(callsSince(before)).toEqual([
      ['/v1/completions', false],
      ['/v1/completions', true],
      ['/v1/completions', false],
    ])
    expect(client.calls).toEqual({ streamed: 1, nonStreamed: 2 })
    expect(client.records).toEqual([...fromEvents, ...fromStream, ...fromCreate])
    expect(fromEvents[0]!.promptTokenIds).toEqual(prompt)
    expect(client.firstRequest).toBeNull()
  })

  it('ends a createEvents call when the attempt signal aborts', async () => {
    const attempt = new AbortController()
    const client = wrap(attempt.signal)
    attempt.abort(new Error('the attempt timed out'))
    await expect(client.chat.createEvents(question).final()).rejects.toThrow(/abort|timed out/i)
    expect(client.records).toEqual([])
  })
})
