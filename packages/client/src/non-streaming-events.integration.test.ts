import { type MockVllmOptions, type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import {
  APICallError,
  type ChatRequest,
  TokenIdsUnavailableError,
  type TokenRecord,
  type TokenStreamEvent,
  VLLMTitoError,
} from '@vllm-tito/spec'
import { afterEach, describe, expect, it } from 'vitest'
import { VLLMClient } from './vllm-client'

/**
 * `createEvents()`: a non-streaming body goes through the same response state as a stream's chunks, so it
 * gives the same records and the same events (one delta of each kind instead of many). mock-vllm seeds its
 * random choices (ids, logprobs) by request index, so two fresh servers answer the two forms of the same
 * request with the same reply, ids and logprob values.
 */

const MODEL = 'Qwen/Qwen3-8B'
const REPLY =
  '<think>\nI should add.\n</think>\n\nLet me add. <tool_call>\n{"name": "add", "arguments": {"a": 2, "b": 3}}\n</tool_call>'
const request: ChatRequest = {
  model: MODEL,
  messages: [{ role: 'user', content: 'What is 2 + 3?' }],
  tools: [
    {
      type: 'function',
      function: { name: 'add', parameters: { type: 'object', properties: { a: {}, b: {} } } },
    },
  ],
  logprobs: true,
  top_logprobs: 2,
}

const servers: MockVllmServer[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close()
})

async function serverWith(options: MockVllmOptions = {}): Promise<MockVllmServer> {
  const server = await startMockVllm({ policy: { script: [REPLY] }, ...options })
  servers.push(server)
  return server
}

async function collect(events: AsyncIterable<TokenStreamEvent>): Promise<TokenStreamEvent[]> {
  const collected: TokenStreamEvent[] = []
  for await (const event of events) collected.push(event)
  return collected
}

/** What a consumer of the events learns: the deltas joined, in the order their kinds first appear. */
function summarize(events: TokenStreamEvent[]) {
  const kinds: string[] = []
  let text = ''
  let reasoning = ''
  const tokenIds: number[] = []
  const logprobs: Array<number | null> = []
  const toolCalls = new Map<number, { id: string; name: string; arguments: string }>()
  for (const event of events) {
    if (kinds.at(-1) !== event.type && event.type !== 'token-delta') kinds.push(event.type)
    if (event.type === 'text-delta') text += event.text
    if (event.type === 'reasoning-delta') reasoning += event.text
    if (event.type === 'token-delta') {
      tokenIds.push(...event.tokenIds)
      logprobs.push(...(event.logprobs ?? []))
    }
    if (event.type === 'tool-call-delta') {
      const call = toolCalls.get(event.toolCallIndex) ?? { id: '', name: '', arguments: '' }
      call.id += event.id ?? ''
      call.name += event.name ?? ''
      call.arguments += event.argumentsDelta
      toolCalls.set(event.toolCallIndex, call)
    }
  }
  return {
    kinds,
    start: events.find((event) => event.type === 'response-start'),
    text,
    reasoning,
    tokenIds,
    logprobs,
    toolCalls: [...toolCalls.entries()],
    choiceEnd: events.find((event) => event.type === 'choice-end'),
    usage: events.find((event) => event.type === 'usage'),
  }
}

function withoutTiming(records: TokenRecord[]) {
  return records.map(({ timing: _timing, ...rest }) => rest)
}

function chatBodies(server: MockVllmServer): Record<string, unknown>[] {
  return server.requests
    .filter((logged) => logged.path === '/v1/chat/completions')
    .map((logged) => logged.body as Record<string, unknown>)
}

describe('chat.createEvents', () => {
  it('sends stream: false and gives the events and the records the stream of the same request gives', async () => {
    const streamServer = await serverWith()
    const bodyServer = await serverWith()
    const stream = new VLLMClient({ baseUrl: streamServer.baseUrl }).chat.stream(request)
    const streamed = await collect(stream)
    const streamedRecords = await stream.final()
    const call = new VLLMClient({ baseUrl: bodyServer.baseUrl }).chat.createEvents(request)
    const fromBody = await collect(call)
    const records = await call.final()

    expect(chatBodies(bodyServer)).toEqual([{ ...request, stream: false, return_token_ids: true }])
    expect(summarize(streamed).kinds).toEqual([
      'response-start',
      'reasoning-delta',
      'text-delta',
      'tool-call-delta',
      'choice-end',
      'usage',
      'response-end',
    ])
    // one delta of each kind: the whole reasoning, the whole text, each call in one fragment, all ids at once
    expect(fromBody.map((event) => event.type)).toEqual([
      'response-start',
      'reasoning-delta',
      'text-delta',
      'tool-call-delta',
      'token-delta',
      'choice-end',
      'usage',
      'response-end',
    ])
    expect(summarize(fromBody)).toEqual(summarize(streamed))
    expect(summarize(fromBody).toolCalls).toEqual([
      [0, { id: records[0]!.toolCalls[0]!.id, name: 'add', arguments: '{"a": 2, "b": 3}' }],
    ])
    expect(summarize(fromBody).tokenIds).toEqual(records[0]!.tokenIds)
    expect(summarize(fromBody).logprobs).toEqual(records[0]!.logprobs)
    expect(fromBody.at(-1)).toEqual({ type: 'response-end', records })
    expect(withoutTiming(records)).toEqual(withoutTiming(streamedRecords))
    expect(records[0]!.verification.status).toBe('verified')
    expect(records[0]!.topLogprobs?.[0]).toHaveLength(2)
  })

  it('final() alone sends one request and gives the records; the call is read once', async () => {
    const server = await serverWith()
    const call = new VLLMClient({ baseUrl: server.baseUrl }).chat.createEvents(request)
    const records = await call.final()
    expect(records.map((record) => record.finishReason)).toEqual(['tool_calls'])
    expect(await call.final()).toBe(records)
    const error = await call[Symbol.asyncIterator]()
      .next()
      .catch((caught: unknown) => caught)
    expect(VLLMTitoError.isInstance(error)).toBe(true)
    expect((error as Error).message).toBe(
      'this TokenStream is already consumed by final(); a stream can be read once',
    )
    expect(chatBodies(server)).toHaveLength(1)
  })

  it('yields the events of the body before a token-id policy failure, as a stream does', async () => {
    const server = await serverWith()
    const client = new VLLMClient({ baseUrl: server.baseUrl, requireTokenIds: true })
    const seen: string[] = []
    const call = client.chat.createEvents({ ...request, return_token_ids: false })
    const error = await (async () => {
      for await (const event of call) seen.push(event.type)
    })().catch((caught: unknown) => caught)
    expect(TokenIdsUnavailableError.isInstance(error)).toBe(true)
    expect(seen).toEqual([
      'response-start',
      'reasoning-delta',
      'text-delta',
      'tool-call-delta',
      'choice-end',
      'usage',
    ])
    expect(await call.final().catch((caught: unknown) => caught)).toBe(error)
  })

  it('rejects the first read with the APICallError of an error status, with no event before it', async () => {
    const server = await serverWith({ faults: [{ kind: 'http-status', status: 503 }] })
    const call = new VLLMClient({ baseUrl: server.baseUrl, maxRetries: 0 }).chat.createEvents(request)
    const seen: TokenStreamEvent[] = []
    const error = await (async () => {
      for await (const event of call) seen.push(event)
    })().catch((caught: unknown) => caught)
    expect(APICallError.isInstance(error)).toBe(true)
    expect((error as APICallError).statusCode).toBe(503)
    expect(seen).toEqual([])
  })

  it('abort() and the caller signal stop a request in flight with the abort reason', async () => {
    const server = await serverWith({ pacing: { firstTokenDelayMs: 10_000 } })
    const client = new VLLMClient({ baseUrl: server.baseUrl })
    const started = Date.now()
    const aborted = client.chat.createEvents(request)
    const pending = aborted.final()
    setTimeout(() => aborted.abort(), 50)
    const error = await pending.catch((caught: unknown) => caught)
    expect((error as Error).name).toBe('AbortError')
    expect((error as Error).message).toBe('the stream was aborted')

    const controller = new AbortController()
    const reason = new Error('the rollout was cancelled')
    const iterated = client.chat.createEvents(request, { signal: controller.signal })
    setTimeout(() => controller.abort(reason), 50)
    const fromSignal = await collect(iterated).catch((caught: unknown) => caught)
    expect(fromSignal).toBe(reason)
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it('a consumer that stops after the first event still gets final()', async () => {
    const server = await serverWith()
    const call = new VLLMClient({ baseUrl: server.baseUrl }).chat.createEvents(request)
    for await (const event of call) {
      expect(event.type).toBe('response-start')
      break
    }
    const records = await call.final()
    expect(records[0]!.text).toBe('\n\nLet me add. ')
  })
})

describe('completions.createEvents', () => {
  it('gives the token-in call as events: response-start carries the prompt ids, response-end the records', async () => {
    const server = await startMockVllm({ policy: { script: ['Five.'] } })
    servers.push(server)
    const prompt = server.tokenizer.encodeChat([{ role: 'user', content: 'What is 2 + 3?' }], {
      addGenerationPrompt: true,
    })
    const call = new VLLMClient({ baseUrl: server.baseUrl }).completions.createEvents({
      model: MODEL,
      prompt,
    })
    const events = await collect(call)
    const records = await call.final()
    expect(events.map((event) => event.type)).toEqual([
      'response-start',
      'text-delta',
      'token-delta',
      'choice-end',
      'usage',
      'response-end',
    ])
    expect(events[0]).toMatchObject({ type: 'response-start', promptTokenIds: prompt })
    expect(records[0]!.promptTokenIds).toEqual(prompt)
    expect(server.tokenizer.decode(records[0]!.tokenIds!)).toBe('Five.<|im_end|>')
    expect(server.requests.at(-1)?.body).toMatchObject({ stream: false })
  })
})
