import { inspect } from 'node:util'
import {
  APICallError,
  type CallAttemptInfo,
  type ChatRequest,
  type ClientCallObserver,
  ContextOverflowError,
  InvalidOptionError,
  StreamInterruptedError,
  StreamingUnsupportedError,
  TokenIdsMismatchError,
  TokenIdsUnavailableError,
  type TokenRecord,
  VLLMTitoError,
} from '@vllm-tito/spec'
import { describe, expect, it } from 'vitest'
import { fixtureBytes, type ReplayAnswer, replayFetch, splitRandomly } from './__fixtures__/replay-fetch'
import { VLLMClient, type VLLMClientOptions } from './vllm-client'

const request: ChatRequest = { model: 'Qwen/Qwen3-8B', messages: [{ role: 'user', content: 'Hi' }] }
const encoder = new TextEncoder()
const SECRET = 'sk-live-DO-NOT-LEAK-4242'

function clientWith(answers: ReplayAnswer[], options: Partial<VLLMClientOptions> = {}) {
  const replay = replayFetch(answers)
  const client = new VLLMClient({ baseUrl: 'http://127.0.0.1:9/v1/', fetch: replay.fetch, ...options })
  return { client, requests: replay.requests }
}

function sse(...payloads: string[]): Uint8Array[] {
  return payloads.map((payload) => encoder.encode(`data: ${payload}\n\n`))
}

const roleChunk =
  '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"Qwen/Qwen3-8B","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"prompt_token_ids":[1,2,3]}'
const contentChunk =
  '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"Qwen/Qwen3-8B","choices":[{"index":0,"delta":{"content":"Hey"},"logprobs":null,"finish_reason":null,"token_ids":[10]}]}'
const finishChunk =
  '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"Qwen/Qwen3-8B","choices":[{"index":0,"delta":{"content":""},"logprobs":null,"finish_reason":"stop","stop_reason":null,"token_ids":[151645]}]}'
const usageChunk = (completionTokens: number) =>
  `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"Qwen/Qwen3-8B","choices":[],"usage":{"prompt_tokens":3,"total_tokens":${3 + completionTokens},"completion_tokens":${completionTokens}}}`

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (error: unknown) => error,
  )
}

describe('request bodies', () => {
  it('sends return_token_ids and stream_options.include_usage unless the caller opts out', async () => {
    const { client, requests } = clientWith([
      { pieces: sse(roleChunk, finishChunk, usageChunk(1), '[DONE]') },
    ])
    await client.chat
      .stream({ ...request, temperature: 0.5, top_k: 20, chat_template_kwargs: { enable_thinking: false } })
      .final()
    await client.chat
      .stream({
        ...request,
        return_token_ids: false,
        stream_options: { include_usage: false, continuous_usage_stats: true },
      })
      .final()
    await client.chat.stream({ ...request, stream_options: null }).final()
    expect(requests.map((sent) => sent.url)).toEqual([
      'http://127.0.0.1:9/v1/chat/completions',
      'http://127.0.0.1:9/v1/chat/completions',
      'http://127.0.0.1:9/v1/chat/completions',
    ])
    expect(requests[0]!.body).toEqual({
      ...request,
      temperature: 0.5,
      top_k: 20,
      chat_template_kwargs: { enable_thinking: false },
      stream: true,
      return_token_ids: true,
      stream_options: { include_usage: true },
    })
    expect(requests[1]!.body).toEqual({
      ...request,
      stream: true,
      return_token_ids: false,
      stream_options: { include_usage: false, continuous_usage_stats: true },
    })
    expect(requests[2]!.body).toEqual({ ...request, stream: true, return_token_ids: true })
    expect(requests[0]!.headers.get('authorization')).toBe('Bearer EMPTY')
  })

  it('create() sends stream: false and never stream_options (vLLM rejects them without stream)', async () => {
    const body = JSON.stringify({
      id: 'chatcmpl-2',
      object: 'chat.completion',
      model: 'Qwen/Qwen3-8B',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'ok' },
          logprobs: null,
          finish_reason: 'stop',
          stop_reason: null,
          token_ids: [7, 151645],
        },
      ],
      usage: { prompt_tokens: 3, total_tokens: 5, completion_tokens: 2 },
      prompt_token_ids: [1, 2, 3],
    })
    const { client, requests } = clientWith([{ text: body }])
    const records = await client.chat.create({ ...request, stream_options: { include_usage: true } })
    expect(requests[0]!.body).toEqual({ ...request, stream: false, return_token_ids: true })
    expect(records[0]!.tokenIds).toEqual([7, 151645])
    expect(records[0]!.verification.status).toBe('verified')
  })

  it('rejects bad input before sending, naming the field', async () => {
    const { client, requests } = clientWith([{ text: '{}' }])
    expect(() => client.chat.stream({ model: '', messages: [] })).toThrow(
      'chat.stream: `model` must be a non-empty string (the name the server lists in /v1/models)',
    )
    expect(() => client.completions.stream({ model: 'm', prompt: [1, -2] })).toThrow(
      'completions.stream: prompt[1] is -2, not a token id (an integer from 0 to 4294967295)',
    )
    await expect(client.completions.create({ model: 'm', prompt: [[1], []] })).rejects.toThrow(
      'completions.create: prompt[1] is an empty token id list',
    )
    await expect(client.tokenize({ prompt: 'a', messages: [] } as never)).rejects.toThrow(
      'tokenize: give exactly one of `messages` (chat form) or `prompt` (text form)',
    )
    expect(() => new VLLMClient({ baseUrl: 'localhost:8000' })).toThrow(VLLMTitoError)
    expect(() => new VLLMClient({ baseUrl: 'http://user:pw@host:1' })).toThrow(
      'new VLLMClient: `baseUrl` must not contain credentials; use `apiKey` or `defaultHeaders`',
    )
    expect(() => new VLLMClient({ baseUrl: 'http://h:1', maxRetries: -1 })).toThrow(
      'new VLLMClient: option `maxRetries` must be an integer >= 0, got -1',
    )
    expect(requests).toHaveLength(0)
  })

  it('refuses misspelt and mistyped options with an InvalidOptionError naming the closest known one', async () => {
    const { client, requests } = clientWith([{ text: '{}' }])
    const cases: Array<[() => unknown, string, string]> = [
      [
        () => new VLLMClient({ baseUrl: 'http://h:1', timeOutMs: 5 } as never),
        'timeOutMs',
        'new VLLMClient: unknown option `timeOutMs` (did you mean `timeoutMs`?); known options: baseUrl, apiKey, timeoutMs, maxRetries, fetch, defaultHeaders, requireTokenIds, onMismatch, observer',
      ],
      [
        () => new VLLMClient({ baseUrl: 'http://h:1', onMismatch: 'warn' as never }),
        'onMismatch',
        "new VLLMClient: option `onMismatch` must be one of 'flag', 'throw', got the string \"warn\"",
      ],
      [
        () => new VLLMClient({ baseUrl: 'http://h:1', observer: { onRecord() {} } as never }),
        'observer',
        'new VLLMClient: option `observer` must be a ClientCallObserver (an object with one or more of the methods onAttempt, onRetry, onRecords, onError), got an object',
      ],
      [
        () => new VLLMClient({ baseUrl: 'http://h:1', observer: { onRecords: [] } as never }),
        'observer',
        'new VLLMClient: option `observer` must be a ClientCallObserver (an object with one or more of the methods onAttempt, onRetry, onRecords, onError), got an object',
      ],
      [
        () => client.chat.stream(request, { requireTokenId: true } as never),
        'requireTokenId',
        'chat.stream: unknown option `requireTokenId` (did you mean `requireTokenIds`?); known options: signal, requireTokenIds, onMismatch',
      ],
      [
        () => client.tokenize({ prompt: 'a', addSpecialToken: true } as never),
        'addSpecialToken',
        'tokenize: unknown option `addSpecialToken` (did you mean `addSpecialTokens`?); known options: model, addSpecialTokens, returnTokenStrings, messages, tools, addGenerationPrompt, continueFinalMessage, chatTemplateKwargs, chatTemplate, prompt',
      ],
      [
        () => client.detokenize([1, 2], { signal: 'soon' } as never),
        'signal',
        'detokenize: option `signal` must be an AbortSignal, got the string "soon"',
      ],
    ]
    for (const [call, option, message] of cases) {
      const error = await (async () => call())().then(
        () => null,
        (caught: unknown) => caught,
      )
      expect(InvalidOptionError.isInstance(error), message).toBe(true)
      expect(VLLMTitoError.isInstance(error)).toBe(true)
      expect((error as InvalidOptionError).option).toBe(option)
      expect((error as InvalidOptionError).message).toBe(message)
    }
    expect(requests).toHaveLength(0)
  })

  it('normalises baseUrl: trailing slash and /v1 are removed', () => {
    expect(new VLLMClient({ baseUrl: 'http://127.0.0.1:8000/v1/' }).baseUrl).toBe('http://127.0.0.1:8000')
    expect(new VLLMClient({ baseUrl: 'https://gpu.example/vllm/' }).baseUrl).toBe('https://gpu.example/vllm')
  })
})

describe('errors and retries', () => {
  const overflowWordings = [
    "This model's maximum context length is 2048 tokens. However, you requested 2723 tokens (1699 in the messages, 1024 in the completion). Please reduce the length of the messages or completion.",
    "This model's maximum context length is 3 tokens. However, your request has 8 input tokens. Please reduce the length of the input messages. (parameter=input_tokens, value=8)",
    "'max_tokens' or 'max_completion_tokens' is too large: 500. This model's maximum context length is 512 tokens and your request has 20 input tokens (500 > 512 - 20).",
    "You passed 40000 input tokens and requested 1000 output tokens. However, the model's context length is only 40960 tokens, resulting in a maximum input length of 39960 tokens. Please reduce the length of the input prompt. (parameter=input_tokens, value=40000)",
    "You passed 90000 input characters and requested 1000 output tokens. However, the model's context length is only 40960 tokens, resulting in a maximum input length of 39960 tokens. Please reduce the length of the input prompt. (parameter=input_text, value=90000)",
    "This model's maximum context length is 40960 tokens. However, you requested 1000 output tokens and your prompt contains at least 40001 input tokens, for a total of at least 41001 tokens. Please reduce the length of the input prompt or the number of requested output tokens.",
  ]

  it.each(overflowWordings)(
    'maps a 400 with a context-overflow wording to ContextOverflowError: %s',
    async (message) => {
      const nested = JSON.stringify({
        error: { message, type: 'BadRequestError', param: 'input_tokens', code: 400 },
      })
      const { client, requests } = clientWith([{ status: 400, text: nested }])
      const error = await rejection(client.chat.stream(request).final())
      expect(ContextOverflowError.isInstance(error)).toBe(true)
      const overflow = error as ContextOverflowError
      expect(overflow.statusCode).toBe(400)
      expect(overflow.isRetryable).toBe(false)
      expect(overflow.errorType).toBe('BadRequestError')
      expect(overflow.param).toBe('input_tokens')
      expect(overflow.path).toBe('/v1/chat/completions')
      expect(overflow.responseBody).toBe(nested)
      expect(overflow.message).toBe(`vLLM /v1/chat/completions returned HTTP 400 BadRequestError: ${message}`)
      expect(requests).toHaveLength(1)
    },
  )

  it('reads the flat pre-0.10.1 error body', async () => {
    const flat = JSON.stringify({
      object: 'error',
      message: overflowWordings[0],
      type: 'BadRequestError',
      param: null,
      code: 400,
    })
    const { client } = clientWith([{ status: 400, text: flat }])
    const error = (await rejection(client.chat.create(request))) as ContextOverflowError
    expect(ContextOverflowError.isInstance(error)).toBe(true)
    expect(error.param).toBeNull()
    expect(error.responseBody).toBe(flat)
  })

  it('reads error bodies itself, keeping the raw text, whatever the openai SDK version makes of them', async () => {
    // openai 6 drops a flat body (no `error` key) and openai 7 re-serialises it; the client reads the text
    const flat = `{"object": "error", "message": "${overflowWordings[0]}", "type": "BadRequestError", "param": null, "code": 400}`
    const nested =
      '{"error": {"message": "bad top_k", "type": "BadRequestError", "param": "top_k", "code": 400}}'
    const { client } = clientWith([
      { status: 400, text: flat },
      { status: 400, text: nested },
    ])
    const overflow = (await rejection(client.chat.stream(request).final())) as ContextOverflowError
    expect(ContextOverflowError.isInstance(overflow)).toBe(true)
    expect(overflow.responseBody).toBe(flat)
    expect(overflow.errorType).toBe('BadRequestError')
    const plain = (await rejection(client.chat.create(request))) as APICallError
    expect(plain.responseBody).toBe(nested)
    expect(plain.param).toBe('top_k')
    expect(plain.message).toBe('vLLM /v1/chat/completions returned HTTP 400 BadRequestError: bad top_k')
  })

  it('keeps other 400s and 404s as plain, non-retryable APICallErrors', async () => {
    const notFound = JSON.stringify({
      error: { message: 'The model `nope` does not exist.', type: 'NotFoundError', param: null, code: 404 },
    })
    const { client, requests } = clientWith([{ status: 404, text: notFound }])
    const error = (await rejection(client.chat.stream(request).final())) as APICallError
    expect(APICallError.isInstance(error)).toBe(true)
    expect(ContextOverflowError.isInstance(error)).toBe(false)
    expect(error.statusCode).toBe(404)
    expect(error.isRetryable).toBe(false)
    expect(error.message).toBe(
      'vLLM /v1/chat/completions returned HTTP 404 NotFoundError: The model `nope` does not exist.',
    )
    expect(requests).toHaveLength(1)
  })

  it('reads the {"detail": …} body of FastAPI proxies: a string, or pydantic\'s list of problems', async () => {
    const listBody = JSON.stringify({
      detail: [
        { type: 'missing', loc: ['body', 'messages'], msg: 'Field required', input: {} },
        { type: 'string_type', loc: ['body', 'model'], msg: 'Input should be a valid string', input: 3 },
      ],
    })
    const { client } = clientWith([
      { status: 404, text: '{"detail":"Rollout not found: r9"}' },
      { status: 422, text: listBody },
    ])
    const notFound = (await rejection(client.chat.create(request))) as APICallError
    expect(notFound.message).toBe('vLLM /v1/chat/completions returned HTTP 404: Rollout not found: r9')
    expect(notFound.responseBody).toBe('{"detail":"Rollout not found: r9"}')
    const invalid = (await rejection(client.chat.stream(request).final())) as APICallError
    expect(invalid.message).toBe(
      'vLLM /v1/chat/completions returned HTTP 422: body.messages: Field required; body.model: Input should be a valid string',
    )
    expect(invalid.isRetryable).toBe(false)
  })

  it('turns a 400 refusing a stream into StreamingUnsupportedError, only for stream() and only for a 400', async () => {
    const refusal = '{"detail":"Streaming responses are not supported"}'
    const { client, requests } = clientWith([
      { status: 400, text: refusal },
      { status: 400, text: refusal },
      {
        status: 500,
        headers: { 'retry-after-ms': '0' },
        text: '{"detail":"Streaming is not supported by the upstream"}',
      },
    ])
    const refused = (await rejection(client.chat.stream(request).final())) as StreamingUnsupportedError
    expect(StreamingUnsupportedError.isInstance(refused)).toBe(true)
    expect(refused.statusCode).toBe(400)
    expect(refused.isRetryable).toBe(false)
    expect(refused.responseBody).toBe(refusal)
    expect(refused.message).toBe(
      'vLLM /v1/chat/completions returned HTTP 400: Streaming responses are not supported (this server takes only non-streaming calls: use create() or createEvents() instead of stream())',
    )
    const fromCreate = await rejection(client.chat.create(request))
    expect(APICallError.isInstance(fromCreate)).toBe(true)
    expect(StreamingUnsupportedError.isInstance(fromCreate)).toBe(false)
    const serverError = await rejection(client.chat.stream(request).final())
    expect(StreamingUnsupportedError.isInstance(serverError)).toBe(false)
    expect((serverError as APICallError).statusCode).toBe(500)
    // the 500 is retried twice (maxRetries 2), the 400s are not: 1 + 1 + 3 requests
    expect(requests).toHaveLength(5)
  })

  it('retries 429/503 before the first byte, honouring Retry-After, and tells the observer', async () => {
    const attempts: CallAttemptInfo[] = []
    const retries: Array<{ attempt: number; delayMs: number; statusCode: number | undefined }> = []
    const observer: ClientCallObserver = {
      onAttempt: (info) => attempts.push(info),
      onRetry: (info) =>
        retries.push({
          attempt: info.attempt,
          delayMs: info.delayMs,
          statusCode: (info.error as APICallError).statusCode,
        }),
      onRecords: () => {},
      onError: () => {},
    }
    const { client, requests } = clientWith(
      [
        {
          status: 429,
          headers: { 'retry-after': '0' },
          text: '{"error":{"message":"slow down","type":"RateLimitError","param":null,"code":429}}',
        },
        { status: 503, headers: { 'retry-after-ms': '20' }, text: 'Service Unavailable' },
        { pieces: sse(roleChunk, contentChunk, finishChunk, usageChunk(2), '[DONE]') },
      ],
      { observer },
    )
    const records = await client.chat.stream(request).final()
    expect(records[0]!.text).toBe('Hey')
    expect(requests).toHaveLength(3)
    expect(attempts).toEqual([
      { path: '/v1/chat/completions', attempt: 1 },
      { path: '/v1/chat/completions', attempt: 2 },
      { path: '/v1/chat/completions', attempt: 3 },
    ])
    expect(retries).toEqual([
      { attempt: 1, delayMs: 0, statusCode: 429 },
      { attempt: 2, delayMs: 20, statusCode: 503 },
    ])
  })

  it('gives up after maxRetries with the last error, carrying retryAfterSeconds and the raw body', async () => {
    const { client, requests } = clientWith(
      [{ status: 503, headers: { 'retry-after': '0' }, text: 'Service Unavailable' }],
      {
        maxRetries: 1,
      },
    )
    const error = (await rejection(client.chat.stream(request).final())) as APICallError
    expect(error.statusCode).toBe(503)
    expect(error.isRetryable).toBe(true)
    expect(error.retryAfterSeconds).toBe(0)
    expect(error.responseBody).toBe('Service Unavailable')
    expect(requests).toHaveLength(2)
  })

  it('does not wait for a Retry-After above 60 s: the error is returned at once', async () => {
    const { client, requests } = clientWith([
      { status: 429, headers: { 'retry-after': '3600' }, text: 'busy' },
    ])
    const error = (await rejection(client.chat.stream(request).final())) as APICallError
    expect(error.retryAfterSeconds).toBe(3600)
    expect(requests).toHaveLength(1)
  })

  it('retries connection errors, then reports them as retryable APICallErrors without status', async () => {
    const refused = new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:9') })
    const { client, requests } = clientWith([{ connectionError: refused }], { maxRetries: 1 })
    const error = (await rejection(client.chat.stream(request).final())) as APICallError
    expect(APICallError.isInstance(error)).toBe(true)
    expect(error.statusCode).toBeUndefined()
    expect(error.isRetryable).toBe(true)
    expect(error.message).toBe(
      'could not reach http://127.0.0.1:9/v1/chat/completions: fetch failed (connect ECONNREFUSED 127.0.0.1:9)',
    )
    expect(requests).toHaveLength(2)
  })

  it('never retries after partial output: a dropped connection keeps what arrived', async () => {
    const dropped = new TypeError('terminated', { cause: new Error('other side closed') })
    const { client, requests } = clientWith([
      { pieces: sse(roleChunk, contentChunk), failAfterPieces: dropped },
      { pieces: sse(roleChunk, contentChunk, finishChunk, usageChunk(2), '[DONE]') },
    ])
    const error = (await rejection(client.chat.stream(request).final())) as StreamInterruptedError
    expect(StreamInterruptedError.isInstance(error)).toBe(true)
    expect(error.message).toBe('the connection dropped: terminated (other side closed)')
    expect(error.statusCode).toBeUndefined()
    expect(error.partialRecord).toMatchObject({
      complete: false,
      text: 'Hey',
      promptTokenIds: [1, 2, 3],
      tokenIds: [10],
      finishReason: null,
    })
    expect(error.partialRecord!.verification.status).toBe('incomplete')
    expect(requests).toHaveLength(1)
  })

  it('flags a stream that ends without [DONE], a malformed chunk and ids of the wrong type', async () => {
    const cases: Array<[Uint8Array[], string]> = [
      [sse(roleChunk, contentChunk), 'the stream ended without `data: [DONE]`'],
      [
        [...sse(roleChunk, contentChunk), encoder.encode('data: {"id":"chatcmpl-1","choi')],
        'the stream ended without `data: [DONE]` (an unterminated line was dropped: data: {"id":"chatcmpl-1","choi)',
      ],
      [sse(roleChunk, contentChunk, '{not json', '[DONE]'), 'malformed chunk: not JSON: {not json'],
      [
        sse(
          roleChunk,
          contentChunk,
          contentChunk.replace('"token_ids":[10]', '"token_ids":"[11]"'),
          '[DONE]',
        ),
        'malformed chunk: choices[0].token_ids is the string "[11]", not an array of token ids',
      ],
    ]
    for (const [pieces, message] of cases) {
      const { client } = clientWith([{ pieces }])
      const stream = client.chat.stream(request)
      const seen: string[] = []
      const error = await (async () => {
        for await (const event of stream) seen.push(event.type)
      })().then(
        () => null,
        (caught: unknown) => caught as StreamInterruptedError,
      )
      expect(StreamInterruptedError.isInstance(error), message).toBe(true)
      expect(error!.message).toBe(message)
      expect(error!.partialRecord!.text).toBe('Hey')
      expect(error!.partialRecord!.tokenIds).toEqual([10])
      // the events of the chunks before the failure were all delivered
      expect(seen).toEqual(['response-start', 'text-delta', 'token-delta'])
      // final() reports the same failure
      expect(await rejection(stream.final())).toBe(error)
    }
  })

  it('fails a stalled stream after timeoutMs of silence, with the partial record', async () => {
    const { client } = clientWith([{ pieces: sse(roleChunk, contentChunk), stallAfterPieces: true }], {
      timeoutMs: 150,
    })
    const started = Date.now()
    const error = (await rejection(client.chat.stream(request).final())) as StreamInterruptedError
    expect(StreamInterruptedError.isInstance(error)).toBe(true)
    expect(error.message).toBe('no data for 150 ms (timeoutMs)')
    expect(error.partialRecord!.tokenIds).toEqual([10])
    expect(Date.now() - started).toBeGreaterThanOrEqual(140)
  })
})

describe('token-id policy', () => {
  const noIds = sse(
    roleChunk.replace('"prompt_token_ids":[1,2,3]', '"prompt_token_ids":null'),
    contentChunk.replace('"token_ids":[10]', '"token_ids":null'),
    usageChunk(1),
    '[DONE]',
  )

  it('flags missing ids by default and throws TokenIdsUnavailableError with requireTokenIds', async () => {
    const flagged = await clientWith([{ pieces: noIds }])
      .client.chat.stream(request)
      .final()
    expect(flagged[0]!.verification.status).toBe('unavailable')
    const strict = clientWith([{ pieces: noIds }], { requireTokenIds: true }).client
    const error = (await rejection(strict.chat.stream(request).final())) as TokenIdsUnavailableError
    expect(TokenIdsUnavailableError.isInstance(error)).toBe(true)
    expect(error.message).toBe(
      'token ids are required (requireTokenIds) but the server returned no token ids: use vLLM >= 0.10.2, send `return_token_ids: true` (the client does unless told otherwise), and make sure no proxy strips `prompt_token_ids`/`token_ids`',
    )
    expect(error.records[0]!.text).toBe('Hey')
    // a per-call option overrides the client's
    const relaxed = await clientWith([{ pieces: noIds }], { requireTokenIds: true })
      .client.chat.stream(request, { requireTokenIds: false })
      .final()
    expect(relaxed[0]!.verification.status).toBe('unavailable')
  })

  it("onMismatch: 'throw' raises TokenIdsMismatchError instead of response-end", async () => {
    const pieces = sse(roleChunk, contentChunk, finishChunk, usageChunk(5), '[DONE]')
    const { client } = clientWith([{ pieces }], { onMismatch: 'throw' })
    const stream = client.chat.stream(request)
    const seen: string[] = []
    const error = await (async () => {
      for await (const event of stream) seen.push(event.type)
    })().catch((caught: unknown) => caught as TokenIdsMismatchError)
    expect(TokenIdsMismatchError.isInstance(error)).toBe(true)
    expect(error!.verification.completionIdsCount).toBe(2)
    expect(error!.verification.usageCompletionTokens).toBe(5)
    expect(seen).not.toContain('response-end')
    const flagged = await clientWith([{ pieces }]).client.chat.stream(request).final()
    expect(flagged[0]!.verification.status).toBe('mismatch')
  })
})

describe('stream lifecycle', () => {
  const full = sse(roleChunk, contentChunk, finishChunk, usageChunk(2), '[DONE]')

  it('breaking out of the iteration aborts the HTTP request; final() then rejects with the partial record', async () => {
    const { client, requests } = clientWith([{ pieces: full, stallAfterPieces: true }])
    const stream = client.chat.stream(request)
    for await (const event of stream) {
      if (event.type === 'text-delta') break
    }
    expect(requests[0]!.signal!.aborted).toBe(true)
    const error = (await rejection(stream.final())) as StreamInterruptedError
    expect(error.message).toBe('the stream was not read to the end')
    expect(error.partialRecord!.text).toBe('Hey')
  })

  it('a consumer that stops at response-end still gets final()', async () => {
    const { client } = clientWith([{ pieces: full }])
    const stream = client.chat.stream(request)
    let ended: TokenRecord[] = []
    for await (const event of stream) {
      if (event.type === 'response-end') {
        ended = event.records
        break
      }
    }
    expect(await stream.final()).toBe(ended)
  })

  it('an AbortSignal aborts before the first byte (its reason) and mid-stream (partial records)', async () => {
    const before = clientWith([{ pieces: full }])
    const controller = new AbortController()
    controller.abort(new Error('user cancelled'))
    const early = await rejection(before.client.chat.stream(request, { signal: controller.signal }).final())
    expect(early).toBe(controller.signal.reason)

    const during = clientWith([{ pieces: sse(roleChunk, contentChunk), stallAfterPieces: true }])
    const lateController = new AbortController()
    const stream = during.client.chat.stream(request, { signal: lateController.signal })
    const seen: string[] = []
    const error = await (async () => {
      for await (const event of stream) {
        seen.push(event.type)
        if (event.type === 'token-delta') lateController.abort(new Error('enough'))
      }
    })().catch((caught: unknown) => caught as StreamInterruptedError)
    expect(StreamInterruptedError.isInstance(error)).toBe(true)
    expect(error!.message).toBe('the stream was aborted by the caller')
    expect(error!.partialRecord!.tokenIds).toEqual([10])
    expect(during.requests[0]!.signal!.aborted).toBe(true)
  })

  it('abort() stops a final() in progress', async () => {
    const { client } = clientWith([{ pieces: sse(roleChunk), stallAfterPieces: true }])
    const stream = client.chat.stream(request)
    const pending = stream.final()
    setTimeout(() => stream.abort(), 20)
    const error = (await rejection(pending)) as StreamInterruptedError
    expect(error.message).toBe('the stream was aborted by the caller')
    expect(error.partialRecord!.promptTokenIds).toEqual([1, 2, 3])
  })

  it('is read once: a second iteration fails with a clear error', async () => {
    const { client, requests } = clientWith([{ pieces: full }])
    const stream = client.chat.stream(request)
    expect(requests).toHaveLength(0)
    await stream.final()
    await expect(
      (async () => {
        for await (const _ of stream) {
          // unreachable
        }
      })(),
    ).rejects.toThrow('this TokenStream is already consumed by final(); a stream can be read once')
  })

  it('reports records and errors to the observer', async () => {
    const seen: string[] = []
    const observer: ClientCallObserver = {
      onAttempt: () => {},
      onRetry: () => {},
      onRecords: (records) => seen.push(`records:${records[0]!.text}`),
      onError: (error) => seen.push(`error:${error.name}`),
    }
    await clientWith([{ pieces: full }], { observer })
      .client.chat.stream(request)
      .final()
    await rejection(
      clientWith([{ pieces: sse(roleChunk) }], { observer })
        .client.chat.stream(request)
        .final(),
    )
    expect(seen).toEqual(['records:Hey', 'error:StreamInterruptedError'])
  })
})

describe('secrets', () => {
  it('the API key never shows in string forms of the client or in errors', async () => {
    const { client, requests } = clientWith(
      [
        {
          status: 401,
          text: '{"error":{"message":"Unauthorized","type":"AuthenticationError","param":null,"code":401}}',
        },
        { connectionError: new TypeError('fetch failed') },
        { pieces: sse(roleChunk, contentChunk) },
      ],
      { apiKey: SECRET, maxRetries: 0 },
    )
    const forms = [
      String(client),
      JSON.stringify(client),
      inspect(client, { depth: 10, showHidden: true }),
      `${client}`,
    ]
    for (const form of forms) expect(form).not.toContain(SECRET)
    expect(String(client)).toBe('VLLMClient(http://127.0.0.1:9)')
    expect(JSON.stringify(client)).toBe('{"baseUrl":"http://127.0.0.1:9"}')
    const errors = [
      await rejection(client.chat.stream(request).final()),
      await rejection(client.chat.create(request)),
      await rejection(client.chat.stream(request).final()),
    ]
    for (const error of errors) {
      expect(VLLMTitoError.isInstance(error)).toBe(true)
      expect(inspect(error, { depth: 10, showHidden: true })).not.toContain(SECRET)
      expect(JSON.stringify(error)).not.toContain(SECRET)
      expect(String((error as Error).stack)).not.toContain(SECRET)
    }
    // it was sent, though, where it belongs
    expect(requests[0]!.headers.get('authorization')).toBe(`Bearer ${SECRET}`)
  })
})

describe('utilities over the injected fetch', () => {
  it('health() is true on 200, false on 503 and on a refused connection, and never retries', async () => {
    const { client, requests } = clientWith([
      { text: '' },
      { status: 503, text: '' },
      { connectionError: new TypeError('fetch failed') },
    ])
    expect(await client.health()).toBe(true)
    expect(await client.health()).toBe(false)
    expect(await client.health()).toBe(false)
    expect(requests.map((sent) => `${sent.method} ${sent.url}`)).toEqual([
      'GET http://127.0.0.1:9/health',
      'GET http://127.0.0.1:9/health',
      'GET http://127.0.0.1:9/health',
    ])
  })

  it('a malformed JSON body becomes a non-retryable APICallError naming the endpoint', async () => {
    const { client } = clientWith([{ text: '<html>proxy error</html>' }])
    const error = (await rejection(client.version())) as APICallError
    expect(error.message).toBe('vLLM /version returned a malformed body (not JSON): <html>proxy error</html>')
    expect(error.isRetryable).toBe(false)
  })

  it('replays the same fixture bytes split one byte at a time', async () => {
    const { client } = clientWith([{ pieces: splitRandomly(fixtureBytes('chat-basic.sse'), 3, 1) }])
    const records = await client.chat.stream(request).final()
    expect(records[0]!.tokenIds).toEqual([13048, 151645])
  })
})
