import {
  type MockFault,
  type MockVllmOptions,
  type MockVllmServer,
  startMockVllm,
} from '@vllm-tito/mock-vllm'
import {
  APICallError,
  type ChatMessage,
  type ChatRequest,
  type ChatTool,
  ContextOverflowError,
  StreamInterruptedError,
  TokenIdsMismatchError,
  TokenIdsUnavailableError,
  type TokenStreamEvent,
} from '@vllm-tito/spec'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { VLLMClient, type VLLMClientOptions } from './vllm-client'

const MODEL = 'Qwen/Qwen3-8B'
const EOS = 151645
const messages: ChatMessage[] = [{ role: 'user', content: 'What is 2 + 3?' }]
const tools: ChatTool[] = [
  {
    type: 'function',
    function: {
      name: 'add',
      description: 'Adds two numbers',
      parameters: {
        type: 'object',
        properties: { a: { type: 'number' }, b: { type: 'number' } },
        required: ['a', 'b'],
      },
    },
  },
]
const TOOL_REPLY =
  '<think>\nI should add.\n</think>\n\nLet me add. <tool_call>\n{"name": "add", "arguments": {"a": 2, "b": 3}}\n</tool_call>'
const TEXT_REPLY = 'Héllo wörld, 日本語 🙂 done.'

const servers: MockVllmServer[] = []

async function serve(options: MockVllmOptions = {}): Promise<MockVllmServer> {
  const server = await startMockVllm({ policy: { script: [TOOL_REPLY] }, ...options })
  servers.push(server)
  return server
}

function clientFor(server: MockVllmServer, options: Partial<VLLMClientOptions> = {}): VLLMClient {
  return new VLLMClient({ baseUrl: server.baseUrl, ...options })
}

function withFault(
  server: MockVllmServer,
  fault: MockFault,
  options: Partial<VLLMClientOptions> = {},
): VLLMClient {
  return clientFor(server, { ...options, defaultHeaders: { 'x-mock-fault': JSON.stringify(fault) } })
}

const toolRequest: ChatRequest = { model: MODEL, messages, tools }

/** A pause after `afterChunks` chunks, long enough for the client to read them before the next fault. */
function stallBefore(afterChunks: number): MockFault {
  return { kind: 'stall', afterChunks, ms: 200 }
}

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()))
})

async function collect(stream: AsyncIterable<TokenStreamEvent>): Promise<TokenStreamEvent[]> {
  const events: TokenStreamEvent[] = []
  for await (const event of stream) events.push(event)
  return events
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (error: unknown) => error,
  )
}

describe('mode current (vLLM ≥ 0.12 with delta: {} frames)', () => {
  let server: MockVllmServer
  let client: VLLMClient
  beforeAll(async () => {
    server = await serve()
    client = clientFor(server)
  })

  it('streams a tool call with reasoning; ids are exactly the tokenizer ids and verified', async () => {
    const stream = client.chat.stream(toolRequest)
    const events = await collect(stream)
    const [record] = await stream.final()
    const expectedPrompt = server.tokenizer.encodeChat(messages, { tools, addGenerationPrompt: true })
    expect(record!.promptTokenIds).toEqual(expectedPrompt)
    expect(record!.tokenIds).toEqual([...server.tokenizer.encode(TOOL_REPLY), EOS])
    expect(record!.verification).toMatchObject({ status: 'verified', verified: true, issues: [] })
    expect(record!.verification.completionIdsCount).toBe(record!.usage!.completionTokens)
    expect(record!.reasoning).toBe('\nI should add.\n')
    expect(record!.text).toBe('\n\nLet me add. ')
    expect(record!.toolCalls).toHaveLength(1)
    expect(record!.toolCalls[0]).toMatchObject({ index: 0, name: 'add', arguments: '{"a": 2, "b": 3}' })
    expect(record!.toolCalls[0]!.id).toMatch(/^chatcmpl-tool-[0-9a-f]{16}$/)
    expect(record!.finishReason).toBe('tool_calls')
    expect(record!.complete).toBe(true)
    // the concatenated token-delta events are the record's ids
    const streamed = events.flatMap((event) => (event.type === 'token-delta' ? event.tokenIds : []))
    expect(streamed).toEqual(record!.tokenIds)
    expect(events.at(-1)).toEqual({ type: 'response-end', records: [record] })
    expect(server.requests.at(-1)!.body).toMatchObject({
      return_token_ids: true,
      stream_options: { include_usage: true },
    })
  })

  it('create() returns the same ids as the stream', async () => {
    const [streamed] = await client.chat.stream(toolRequest).final()
    const [created] = await client.chat.create(toolRequest)
    expect(created!.tokenIds).toEqual(streamed!.tokenIds)
    expect(created!.promptTokenIds).toEqual(streamed!.promptTokenIds)
    expect(created!.toolCalls.map(({ name, arguments: args }) => ({ name, args }))).toEqual([
      { name: 'add', args: '{"a": 2, "b": 3}' },
    ])
    expect(created!.verification.status).toBe('verified')
  })

  it('logprobs with return_tokens_as_token_ids line up 1:1 with the ids', async () => {
    const [record] = await client.chat
      .stream({ ...toolRequest, logprobs: true, top_logprobs: 2, return_tokens_as_token_ids: true })
      .final()
    const ids = record!.tokenIds!
    expect(record!.logprobs).toHaveLength(ids.length)
    expect(record!.topLogprobs).toHaveLength(ids.length)
    expect(record!.verification.status).toBe('verified')
    for (const value of record!.logprobs!) {
      if (value !== null) expect(value).toBeLessThanOrEqual(0)
    }
    const sampled = record!.topLogprobs!.map((alternatives, position) =>
      alternatives.find((alternative) => alternative.tokenId === ids[position]),
    )
    expect(sampled.filter((alternative) => alternative !== undefined).length).toBeGreaterThan(0)
  })

  it('n = 2 gives two records whose ids sum to usage.completion_tokens', async () => {
    const server2 = await serve({ policy: { script: [TEXT_REPLY] } })
    const records = await clientFor(server2).chat.stream({ model: MODEL, messages, n: 2 }).final()
    expect(records.map((record) => record.choiceIndex)).toEqual([0, 1])
    const expected = [...server2.tokenizer.encode(TEXT_REPLY), EOS]
    for (const record of records) {
      expect(record.tokenIds).toEqual(expected)
      expect(record.text).toBe(TEXT_REPLY)
      expect(record.verification).toMatchObject({
        status: 'verified',
        completionIdsCount: 2 * expected.length,
      })
    }
  })

  it('several tokens per chunk (stream_interval) still verify', async () => {
    const paced = await serve({ policy: { script: [TEXT_REPLY] }, pacing: { tokensPerChunk: 3 } })
    const stream = clientFor(paced).chat.stream({ model: MODEL, messages })
    const events = await collect(stream)
    const deltas = events.filter((event) => event.type === 'token-delta')
    expect(deltas.some((event) => event.tokenIds.length === 3)).toBe(true)
    const [record] = await stream.final()
    expect(record!.tokenIds).toEqual([...paced.tokenizer.encode(TEXT_REPLY), EOS])
    expect(record!.verification.status).toBe('verified')
  })
})

describe('older vLLM generations', () => {
  it('legacy-0.10 drops parser-swallowed ids: the record is flagged mismatch, or throws with onMismatch', async () => {
    const server = await serve({ mode: 'legacy-0.10' })
    const [record] = await clientFor(server).chat.stream(toolRequest).final()
    expect(record!.verification.status).toBe('mismatch')
    expect(record!.verification.verified).toBe(false)
    const missing = record!.usage!.completionTokens - record!.tokenIds!.length
    expect(missing).toBeGreaterThan(0)
    expect(record!.verification.issues).toEqual([
      `completion ids: ${record!.tokenIds!.length} received but usage.completion_tokens is ${record!.usage!.completionTokens} (${missing} missing): vLLM 0.10.2–0.11 drops the ids of tokens swallowed by a tool or reasoning parser while streaming (vllm-project/vllm#27482); upgrade to vLLM >= 0.12 (vllm-project/vllm#29074) or use the non-streaming call`,
    ])
    // reasoning arrives as reasoning_content in this generation
    expect(record!.reasoning).toBe('\nI should add.\n')
    const error = await rejection(clientFor(server, { onMismatch: 'throw' }).chat.stream(toolRequest).final())
    expect(TokenIdsMismatchError.isInstance(error)).toBe(true)
    expect((error as TokenIdsMismatchError).records[0]!.tokenIds).toEqual(record!.tokenIds)
  })

  it('legacy-0.10 reports tool_calls on a max_tokens cut although ids were dropped: the record says length', async () => {
    const server = await serve({ mode: 'legacy-0.10' })
    const [record] = await clientFor(server)
      .chat.stream({ ...toolRequest, max_tokens: 30 })
      .final()
    expect(record!.usage!.completionTokens).toBe(30)
    expect(record!.tokenIds!.length).toBeLessThan(30)
    expect(record!.toolCalls.map((call) => call.arguments)).toEqual(['{"a": 2,'])
    expect(record!.finishReason).toBe('length')
    // without ids (strands-vllm's default) usage alone tells the cut
    const [withoutIds] = await clientFor(server)
      .chat.stream({ ...toolRequest, max_tokens: 30, return_token_ids: false })
      .final()
    expect(withoutIds!.tokenIds).toBeNull()
    expect(withoutIds!.finishReason).toBe('length')
  })

  it('pre-0.10.2 sends no ids: flagged unavailable, or TokenIdsUnavailableError with requireTokenIds', async () => {
    const server = await serve({ mode: 'pre-0.10.2' })
    const [record] = await clientFor(server).chat.stream(toolRequest).final()
    expect(record!.tokenIds).toBeNull()
    expect(record!.promptTokenIds).toBeNull()
    expect(record!.verification.status).toBe('unavailable')
    expect(record!.toolCalls[0]).toMatchObject({ name: 'add', arguments: '{"a": 2, "b": 3}' })
    const error = await rejection(
      clientFor(server, { requireTokenIds: true }).chat.stream(toolRequest).final(),
    )
    expect(TokenIdsUnavailableError.isInstance(error)).toBe(true)
  })
})

describe('token in: /v1/completions', () => {
  let server: MockVllmServer
  beforeAll(async () => {
    server = await serve({ policy: { script: [' and so on.'] } })
  })

  it('a number[] prompt comes back as the record prompt ids, verified', async () => {
    const prompt = server.tokenizer.encode('Count: one, two, three')
    const stream = clientFor(server).completions.stream({ model: MODEL, prompt, max_tokens: 32 })
    const events = await collect(stream)
    const [record] = await stream.final()
    expect(events[0]).toMatchObject({ type: 'response-start', promptTokenIds: prompt })
    expect(record!.kind).toBe('completion')
    expect(record!.promptTokenIds).toEqual(prompt)
    expect(record!.tokenIds!.length).toBe(record!.usage!.completionTokens)
    expect(record!.verification.status).toBe('verified')
    expect(server.requests.at(-1)!.body).toMatchObject({ prompt, return_token_ids: true, stream: true })
  })

  it('a number[][] batch with n = 2 gives prompt × choice records with their own prompt ids', async () => {
    const prompts = [server.tokenizer.encode('First'), server.tokenizer.encode('The second prompt')]
    for (const records of [
      await clientFor(server).completions.stream({ model: MODEL, prompt: prompts, n: 2 }).final(),
      await clientFor(server).completions.create({ model: MODEL, prompt: prompts, n: 2 }),
    ]) {
      expect(records.map((record) => [record.choiceIndex, record.promptTokenIds])).toEqual([
        [0, prompts[0]],
        [1, prompts[0]],
        [2, prompts[1]],
        [3, prompts[1]],
      ])
      for (const record of records) {
        expect(record.verification).toMatchObject({
          status: 'verified',
          promptIdsCount: prompts[0]!.length + prompts[1]!.length,
        })
      }
    }
  })
})

describe('faults over real HTTP', () => {
  let server: MockVllmServer
  beforeAll(async () => {
    server = await serve({ policy: { script: [TEXT_REPLY] } })
  })

  const cases: Array<[string, MockFault, RegExp]> = [
    ['reset', { kind: 'reset', afterChunks: 3 }, /^the connection dropped: /],
    [
      'malformed-chunk',
      { kind: 'malformed-chunk', afterChunks: 3 },
      /^malformed chunk: not JSON: \{not json/,
    ],
    [
      'wrong-token-ids-type',
      { kind: 'wrong-token-ids-type', afterChunks: 3 },
      /^malformed chunk: choices\[0\]\.token_ids is the string ".*", not an array of token ids$/,
    ],
    [
      'mid-stream-error',
      { kind: 'mid-stream-error', afterChunks: 3, message: 'engine hiccup', code: 503 },
      /^vLLM sent an error mid-stream \(code 503 \w+\): engine hiccup$/,
    ],
  ]

  it.each(cases)(
    '%s after 3 chunks: StreamInterruptedError keeps the partial record of what arrived',
    async (_name, fault, message) => {
      // a reset discards whatever the client had not read yet, so the server first pauses long enough for
      // the three chunks to be read: the partial record is then exact for every kind of fault
      const faulty =
        fault.kind === 'reset'
          ? clientFor(await serve({ policy: { script: [TEXT_REPLY] }, faults: [stallBefore(3), fault] }))
          : withFault(server, fault)
      const error = (await rejection(
        faulty.chat.stream({ model: MODEL, messages }).final(),
      )) as StreamInterruptedError
      expect(StreamInterruptedError.isInstance(error)).toBe(true)
      expect(error.message).toMatch(message)
      expect(error.partialRecords).toHaveLength(1)
      const partial = error.partialRecord!
      expect(partial.complete).toBe(false)
      expect(partial.verification.status).toBe('incomplete')
      expect(partial.verification.issues).toEqual([
        `the call did not finish (${error.message}): the ids are only what arrived before the failure`,
      ])
      expect(partial.promptTokenIds).toEqual(
        server.tokenizer.encodeChat(messages, { addGenerationPrompt: true }),
      )
      // the role chunk and two one-token chunks arrived before the fault
      const replyIds = server.tokenizer.encode(TEXT_REPLY)
      expect(partial.tokenIds).toEqual(replyIds.slice(0, 2))
      expect(partial.text).toBe(server.tokenizer.decode(replyIds.slice(0, 2)))
      expect(partial.finishReason).toBeNull()
      if (fault.kind === 'mid-stream-error') expect(error.statusCode).toBe(503)
    },
  )

  it('missing [DONE]: the stream is not trusted as complete', async () => {
    const error = (await rejection(
      withFault(server, { kind: 'missing-done' }).chat.stream({ model: MODEL, messages }).final(),
    )) as StreamInterruptedError
    expect(error.message).toBe('the stream ended without `data: [DONE]`')
    expect(error.partialRecord!.tokenIds).toEqual([...server.tokenizer.encode(TEXT_REPLY), EOS])
  })

  it('a stall longer than timeoutMs fails the stream instead of hanging', async () => {
    const client = withFault(server, { kind: 'stall', afterChunks: 2, ms: 5_000 }, { timeoutMs: 300 })
    const error = (await rejection(
      client.chat.stream({ model: MODEL, messages }).final(),
    )) as StreamInterruptedError
    expect(error.message).toBe('no data for 300 ms (timeoutMs)')
    expect(error.partialRecord!.tokenIds).toEqual(server.tokenizer.encode(TEXT_REPLY).slice(0, 1))
  })

  it('a stall shorter than timeoutMs is waited out', async () => {
    const client = withFault(server, { kind: 'stall', afterChunks: 2, ms: 200 }, { timeoutMs: 2_000 })
    const [record] = await client.chat.stream({ model: MODEL, messages }).final()
    expect(record!.verification.status).toBe('verified')
  })

  it('429 with Retry-After and 503 before the first byte are retried; the third attempt succeeds', async () => {
    const flaky = await serve({
      policy: { script: [TEXT_REPLY] },
      faults: [
        { kind: 'http-status', status: 429, retryAfterSeconds: 1, when: { requestIndex: [0] } },
        { kind: 'http-status', status: 503, when: { requestIndex: [1] } },
      ],
    })
    const retries: Array<{ attempt: number; delayMs: number; status: number | undefined }> = []
    // an observer with only the callback it needs
    const client = clientFor(flaky, {
      observer: {
        onRetry: ({ attempt, delayMs, error }) =>
          retries.push({ attempt, delayMs, status: (error as APICallError).statusCode }),
      },
    })
    const started = Date.now()
    const [record] = await client.chat.stream({ model: MODEL, messages }).final()
    expect(record!.verification.status).toBe('verified')
    expect(flaky.requests.filter((entry) => entry.path === '/v1/chat/completions')).toHaveLength(3)
    expect(retries[0]).toEqual({ attempt: 1, delayMs: 1000, status: 429 })
    expect(retries[1]!.status).toBe(503)
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000)
  })

  it('no retry once output started: a reset stream is sent once', async () => {
    const once = await serve({
      policy: { script: [TEXT_REPLY] },
      faults: [{ kind: 'reset', afterChunks: 2 }],
    })
    await rejection(clientFor(once, { maxRetries: 5 }).chat.stream({ model: MODEL, messages }).final())
    expect(once.requests.filter((entry) => entry.path === '/v1/chat/completions')).toHaveLength(1)
  })

  it('breaking out of the iteration closes the HTTP request and the client stays usable', async () => {
    const slow = await serve({ policy: { random: { tokens: 2_000 } }, pacing: { interChunkDelayMs: 5 } })
    const client = clientFor(slow)
    const stream = client.chat.stream({ model: MODEL, messages })
    let deltas = 0
    for await (const event of stream) {
      if (event.type === 'token-delta') deltas += 1
      if (deltas === 3) break
    }
    expect(StreamInterruptedError.isInstance(await rejection(stream.final()))).toBe(true)
    expect(await client.health()).toBe(true)
  })
})

describe('errors over real HTTP', () => {
  const wordings = ['newest', 'v0.16', 'v0.10', 'legacy'] as const
  it.each(wordings)('context overflow (%s wording) is a ContextOverflowError', async (wording) => {
    const server = await serve({ maxModelLen: 64, contextOverflowWording: wording })
    const error = await rejection(
      clientFor(server).chat.stream({ model: MODEL, messages, max_tokens: 60 }).final(),
    )
    expect(ContextOverflowError.isInstance(error)).toBe(true)
    expect((error as ContextOverflowError).statusCode).toBe(400)
    expect((error as ContextOverflowError).isRetryable).toBe(false)
    expect(server.requests).toHaveLength(1)
  })

  it('an unknown model is a non-retryable 404 with vLLM’s text', async () => {
    const server = await serve()
    const error = (await rejection(
      clientFor(server).chat.create({ model: 'nope', messages }),
    )) as APICallError
    expect(APICallError.isInstance(error)).toBe(true)
    expect(ContextOverflowError.isInstance(error)).toBe(false)
    expect(error.statusCode).toBe(404)
    expect(error.isRetryable).toBe(false)
    expect(error.message).toContain('The model `nope` does not exist.')
  })

  it('sends the API key only as the Authorization header', async () => {
    const server = await serve()
    const secret = 'sk-integration-secret-99'
    const client = clientFor(server, { apiKey: secret })
    await client.chat.stream(toolRequest).final()
    expect(server.requests.at(-1)!.headers.authorization).toBe(`Bearer ${secret}`)
    const error = await rejection(client.chat.create({ model: 'nope', messages }))
    expect(JSON.stringify(error)).not.toContain(secret)
    expect(String((error as Error).stack)).not.toContain(secret)
  })
})

describe('utility endpoints', () => {
  let server: MockVllmServer
  let client: VLLMClient
  beforeAll(async () => {
    server = await serve({ maxModelLen: 40960 })
    client = clientFor(server)
  })
  afterEach(() => {
    // every utility call must hit the server root, not /v1 (except /v1/models)
    expect(server.requests.at(-1)!.path).not.toMatch(/^\/v1\/(tokenize|detokenize|health|version)/)
  })

  it('tokenize(messages) counts exactly the prompt ids of a chat call', async () => {
    const tokenized = await client.tokenize({
      messages,
      tools,
      addGenerationPrompt: true,
      returnTokenStrings: true,
    })
    const [record] = await client.chat.stream(toolRequest).final()
    expect(tokenized.tokenIds).toEqual(record!.promptTokenIds)
    expect(tokenized.count).toBe(record!.usage!.promptTokens)
    expect(tokenized.maxModelLen).toBe(40960)
    expect(tokenized.tokenStrings).toHaveLength(tokenized.count)
  })

  it('tokenize(prompt) and detokenize round-trip', async () => {
    const tokenized = await client.tokenize({ prompt: TEXT_REPLY })
    expect(tokenized.tokenIds).toEqual(server.tokenizer.encode(TEXT_REPLY))
    expect(tokenized.tokenStrings).toBeNull()
    expect(await client.detokenize(tokenized.tokenIds)).toBe(TEXT_REPLY)
  })

  it('health, version and models', async () => {
    expect(await client.health()).toBe(true)
    expect(await client.version()).toMatch(/^\d+\.\d+\.\d+/)
    const models = await client.models()
    expect(models).toHaveLength(1)
    expect(models[0]).toMatchObject({ id: MODEL, ownedBy: 'vllm', maxModelLen: 40960 })
  })

  it('health is false when nothing listens', async () => {
    const closed = await serve()
    const url = closed.baseUrl
    await closed.close()
    expect(await new VLLMClient({ baseUrl: url }).health()).toBe(false)
  })
})
