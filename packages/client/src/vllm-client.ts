import {
  APICallError,
  type ChatRequest,
  type ClientCallObserver,
  type CompletionRequest,
  noopClientCallObserver,
  type TokenRecord,
  type TokenStreamingClient,
  VLLMTitoError,
} from '@vllm-tito/spec'
import {
  chatSettings,
  completionSettings,
  validateChatRequest,
  validateCompletionRequest,
  wireBody,
} from './request-bodies'
import { fromStatus } from './to-api-call-error'
import { type AccumulatorSettings, TokenAccumulator } from './token-accumulator'
import { enforceTokenIdPolicy, type MismatchPolicy, type TokenIdPolicy } from './token-id-policy'
import type {
  TokenCallOptions,
  TokenizeInput,
  TokenizeResult,
  UtilityCallOptions,
  VLLMModelInfo,
} from './utility-types'
import { VLLMTokenStream } from './vllm-token-stream'
import { abortReason, notify, type TransportResponse, VLLMTransport } from './vllm-transport'
import { isRecord, MalformedResponseError, readErrorInfo, snippet } from './wire-errors'

/** Options of {@link VLLMClient}. */
export interface VLLMClientOptions {
  /**
   * Server root, e.g. `http://127.0.0.1:8000`. A trailing `/v1` or `/` is accepted and removed: chat and
   * completions go to `<root>/v1/…`, the utility endpoints to `<root>/tokenize` and so on.
   */
  baseUrl: string
  /** Sent as `Authorization: Bearer <apiKey>`. Default `'EMPTY'` (vLLM without `--api-key` ignores it). */
  apiKey?: string
  /**
   * Milliseconds to wait for the response headers of one attempt, and the longest silence between two body
   * reads of a stream (a stalled stream fails with `StreamInterruptedError`). Default 600 000 (10 minutes).
   */
  timeoutMs?: number
  /** Retries before the first response byte (connect errors, 408, 409, 429, 5xx). Default 2. */
  maxRetries?: number
  /** A `fetch` implementation to use instead of the global one (tests, proxies, custom agents). */
  fetch?: typeof globalThis.fetch
  /** Headers sent with every request. */
  defaultHeaders?: Record<string, string>
  /** Throw `TokenIdsUnavailableError` when the server returns no ids, instead of flagging. Default `false`. */
  requireTokenIds?: boolean
  /** `'flag'` (default): mark records whose ids disagree with `usage`; `'throw'`: throw `TokenIdsMismatchError`. */
  onMismatch?: MismatchPolicy
  /** Lifecycle callbacks (attempts, retries, records, errors) for metrics and logs; never given the API key. */
  observer?: ClientCallObserver
}

const DEFAULT_TIMEOUT_MS = 600_000
const DEFAULT_MAX_RETRIES = 2
const CHAT_PATH = '/v1/chat/completions'
const COMPLETIONS_PATH = '/v1/completions'

/**
 * A streaming token-id client for vLLM's OpenAI-compatible server: every call yields {@link TokenRecord}s with
 * the exact prompt and completion token ids vLLM sampled, logprobs aligned with them, and a verification
 * against the server's `usage`. Implements the spec's `TokenStreamingClient`. The API key never appears in
 * an error, a log line, `toString()`, `JSON.stringify` or `util.inspect` of the client.
 */
export class VLLMClient implements TokenStreamingClient {
  /** Server root the client talks to (no `/v1`, no trailing slash). */
  readonly baseUrl: string
  readonly #transport: VLLMTransport
  readonly #timeoutMs: number
  readonly #policy: TokenIdPolicy
  readonly #observer: ClientCallObserver

  /** `/v1/chat/completions`. */
  readonly chat: {
    /** Starts a streaming chat call; the request is sent when the stream is first read. */
    stream(request: ChatRequest, options?: TokenCallOptions): VLLMTokenStream
    /** A non-streaming chat call: one record per choice. */
    create(request: ChatRequest, options?: TokenCallOptions): Promise<TokenRecord[]>
  }

  /** `/v1/completions`, the token-in endpoint (`prompt` may be `number[]` or `number[][]`). */
  readonly completions: {
    /** Starts a streaming completions call; the request is sent when the stream is first read. */
    stream(request: CompletionRequest, options?: TokenCallOptions): VLLMTokenStream
    /** A non-streaming completions call: one record per prompt × choice, each with its prompt ids. */
    create(request: CompletionRequest, options?: TokenCallOptions): Promise<TokenRecord[]>
  }

  constructor(options: VLLMClientOptions) {
    if (!isRecord(options)) throw new VLLMTitoError('new VLLMClient(options): options must be an object')
    this.baseUrl = normalizeBaseUrl(options.baseUrl)
    const apiKey = options.apiKey ?? 'EMPTY'
    if (typeof apiKey !== 'string' || apiKey === '') {
      throw new VLLMTitoError(
        'new VLLMClient: `apiKey` must be a non-empty string (vLLM without --api-key accepts any)',
      )
    }
    this.#timeoutMs = positiveOption(options.timeoutMs, 'timeoutMs') ?? DEFAULT_TIMEOUT_MS
    const maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES
    if (!Number.isInteger(maxRetries) || maxRetries < 0) {
      throw new VLLMTitoError(
        `new VLLMClient: \`maxRetries\` must be a non-negative integer, got ${maxRetries}`,
      )
    }
    if (options.onMismatch !== undefined && options.onMismatch !== 'flag' && options.onMismatch !== 'throw') {
      throw new VLLMTitoError(`new VLLMClient: \`onMismatch\` must be 'flag' or 'throw'`)
    }
    this.#policy = {
      requireTokenIds: options.requireTokenIds ?? false,
      onMismatch: options.onMismatch ?? 'flag',
    }
    this.#observer = options.observer ?? noopClientCallObserver
    this.#transport = new VLLMTransport({
      root: this.baseUrl,
      apiKey,
      timeoutMs: this.#timeoutMs,
      maxRetries,
      fetch: options.fetch,
      defaultHeaders: options.defaultHeaders,
      observer: this.#observer,
    })
    this.chat = {
      stream: (request, callOptions) => {
        validateChatRequest(request, 'chat.stream')
        return this.#stream(CHAT_PATH, wireBody(request, true), chatSettings(request, true), callOptions)
      },
      create: async (request, callOptions) => {
        validateChatRequest(request, 'chat.create')
        return this.#create(CHAT_PATH, wireBody(request, false), chatSettings(request, false), callOptions)
      },
    }
    this.completions = {
      stream: (request, callOptions) => {
        validateCompletionRequest(request, 'completions.stream')
        return this.#stream(
          COMPLETIONS_PATH,
          wireBody(request, true),
          completionSettings(request, true),
          callOptions,
        )
      },
      create: async (request, callOptions) => {
        validateCompletionRequest(request, 'completions.create')
        return this.#create(
          COMPLETIONS_PATH,
          wireBody(request, false),
          completionSettings(request, false),
          callOptions,
        )
      },
    }
  }

  /**
   * `POST /tokenize`: a conversation rendered exactly as chat renders it (so `count == usage.prompt_tokens`),
   * or a plain prompt.
   */
  async tokenize(input: TokenizeInput, options: UtilityCallOptions = {}): Promise<TokenizeResult> {
    const body = tokenizeBody(input)
    const result = await this.#json('post', '/tokenize', body, options.signal)
    if (!isRecord(result) || !isIdList(result.tokens) || typeof result.count !== 'number') {
      throw this.#malformed('/tokenize', 'expected {count, tokens}', result)
    }
    const tokenStrings = Array.isArray(result.token_strs)
      ? result.token_strs.filter((piece): piece is string => typeof piece === 'string')
      : null
    return {
      count: result.count,
      maxModelLen: typeof result.max_model_len === 'number' ? result.max_model_len : null,
      tokenIds: result.tokens,
      tokenStrings,
    }
  }

  /** `POST /detokenize`: the text of `tokenIds` (special tokens kept as the server decodes them). */
  async detokenize(
    tokenIds: readonly number[],
    options: UtilityCallOptions & { model?: string } = {},
  ): Promise<string> {
    if (!isIdList(tokenIds))
      throw new VLLMTitoError('detokenize: `tokenIds` must be an array of non-negative integers')
    const body: Record<string, unknown> = { tokens: tokenIds }
    if (options.model !== undefined) body.model = options.model
    const result = await this.#json('post', '/detokenize', body, options.signal)
    if (!isRecord(result) || typeof result.prompt !== 'string') {
      throw this.#malformed('/detokenize', 'expected {prompt}', result)
    }
    return result.prompt
  }

  /**
   * `GET /health`: `true` when the server answers 200, `false` when it answers an error status or cannot be
   * reached. Not retried. Rejects only when `signal` aborts.
   */
  async health(options: UtilityCallOptions = {}): Promise<boolean> {
    try {
      const started = await this.#transport.send({
        method: 'get',
        path: '/health',
        signal: options.signal,
        maxRetries: 0,
      })
      await started.response.body?.cancel()
      return true
    } catch (error) {
      if (APICallError.isInstance(error)) return false
      throw error
    }
  }

  /** `GET /version`: the server's vLLM version, e.g. `0.11.0`. */
  async version(options: UtilityCallOptions = {}): Promise<string> {
    const result = await this.#json('get', '/version', undefined, options.signal)
    if (!isRecord(result) || typeof result.version !== 'string') {
      throw this.#malformed('/version', 'expected {version}', result)
    }
    return result.version
  }

  /** `GET /v1/models`: the served models with their context length. */
  async models(options: UtilityCallOptions = {}): Promise<VLLMModelInfo[]> {
    const result = await this.#json('get', '/v1/models', undefined, options.signal)
    if (!isRecord(result) || !Array.isArray(result.data)) {
      throw this.#malformed('/v1/models', 'expected {data: [...]}', result)
    }
    return result.data.filter(isRecord).map((model) => ({
      id: String(model.id),
      created: typeof model.created === 'number' ? model.created : null,
      ownedBy: typeof model.owned_by === 'string' ? model.owned_by : null,
      root: typeof model.root === 'string' ? model.root : null,
      parent: typeof model.parent === 'string' ? model.parent : null,
      maxModelLen: typeof model.max_model_len === 'number' ? model.max_model_len : null,
    }))
  }

  /** The client without secrets: `VLLMClient(<baseUrl>)`. */
  toString(): string {
    return `VLLMClient(${this.baseUrl})`
  }

  /** The client's JSON form, without secrets. */
  toJSON(): { baseUrl: string } {
    return { baseUrl: this.baseUrl }
  }

  /** What `util.inspect` / `console.log` print: the base URL only. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString()
  }

  #stream(
    path: string,
    body: Record<string, unknown>,
    settings: AccumulatorSettings,
    options: TokenCallOptions = {},
  ): VLLMTokenStream {
    return new VLLMTokenStream({
      start: (signal) => this.#transport.send({ method: 'post', path, body, stream: true, signal }),
      settings,
      policy: this.#callPolicy(options),
      idleTimeoutMs: this.#timeoutMs,
      observer: this.#observer,
      signal: options.signal,
    })
  }

  async #create(
    path: string,
    body: Record<string, unknown>,
    settings: AccumulatorSettings,
    options: TokenCallOptions = {},
  ): Promise<TokenRecord[]> {
    try {
      const { parsed, started } = await this.#request('post', path, body, options.signal)
      const info = readErrorInfo(parsed)
      if (info !== null) {
        throw fromStatus({
          statusCode: info.statusCode ?? 500,
          serverMessage: info.message,
          errorType: info.errorType,
          param: info.param,
          site: this.#transport.site(path),
        })
      }
      const accumulator = new TokenAccumulator(settings)
      try {
        accumulator.apply(parsed, null)
      } catch (error) {
        if (error instanceof MalformedResponseError) throw this.#malformed(path, error.message, parsed)
        throw error
      }
      const records = accumulator.records(
        { startedAt: started.startedAt, firstByteAt: started.firstByteAt, endedAt: Date.now() },
        true,
      )
      enforceTokenIdPolicy(records, this.#callPolicy(options))
      notify(() => this.#observer.onRecords(records))
      return records
    } catch (error) {
      if (error instanceof Error) notify(() => this.#observer.onError(error))
      throw error
    }
  }

  async #json(method: 'get' | 'post', path: string, body: unknown, signal: AbortSignal | undefined) {
    return (await this.#request(method, path, body, signal)).parsed
  }

  /** Sends a request and reads its JSON body, with `timeoutMs` also bounding the body read. */
  async #request(
    method: 'get' | 'post',
    path: string,
    body: unknown,
    signal: AbortSignal | undefined,
  ): Promise<{ parsed: unknown; started: TransportResponse }> {
    const controller = new AbortController()
    const forwardAbort = () => controller.abort(signal?.reason)
    if (signal?.aborted) forwardAbort()
    else signal?.addEventListener('abort', forwardAbort, { once: true })
    let timer: NodeJS.Timeout | undefined
    try {
      const started = await this.#transport.send({ method, path, body, signal: controller.signal })
      let timedOut = false
      timer = setTimeout(() => {
        timedOut = true
        controller.abort(new DOMException(`no body within ${this.#timeoutMs} ms`, 'TimeoutError'))
      }, this.#timeoutMs)
      let text: string
      try {
        text = await started.response.text()
      } catch (error) {
        if (signal?.aborted) throw abortReason(signal, error)
        const reason = timedOut
          ? `no body within ${this.#timeoutMs} ms (timeoutMs)`
          : 'the connection dropped'
        throw new APICallError({
          message: `vLLM ${path}: ${reason} while reading the response`,
          isRetryable: false,
          path,
          cause: error,
        })
      }
      try {
        return { parsed: JSON.parse(text), started }
      } catch {
        throw this.#malformed(path, 'not JSON', text)
      }
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', forwardAbort)
    }
  }

  #malformed(path: string, problem: string, received: unknown): APICallError {
    const text = typeof received === 'string' ? received : JSON.stringify(received)
    return new APICallError({
      message: `vLLM ${path} returned a malformed body (${problem}): ${snippet(text ?? String(received), 200)}`,
      statusCode: 200,
      isRetryable: false,
      responseBody: text,
      path,
    })
  }

  #callPolicy(options: TokenCallOptions): TokenIdPolicy {
    return {
      requireTokenIds: options.requireTokenIds ?? this.#policy.requireTokenIds,
      onMismatch: options.onMismatch ?? this.#policy.onMismatch,
    }
  }
}

function normalizeBaseUrl(baseUrl: unknown): string {
  if (typeof baseUrl !== 'string')
    throw new VLLMTitoError('new VLLMClient: `baseUrl` must be a string such as http://127.0.0.1:8000')
  let url: URL
  try {
    url = new URL(baseUrl)
  } catch {
    throw new VLLMTitoError(
      'new VLLMClient: `baseUrl` is not an absolute URL (expected e.g. http://127.0.0.1:8000)',
    )
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new VLLMTitoError(`new VLLMClient: \`baseUrl\` must use http or https, not ${url.protocol}`)
  }
  if (url.username !== '' || url.password !== '') {
    // credentials in the URL would end up in error messages; they belong in apiKey or defaultHeaders
    throw new VLLMTitoError(
      'new VLLMClient: `baseUrl` must not contain credentials; use `apiKey` or `defaultHeaders`',
    )
  }
  const path = url.pathname.replace(/\/+$/, '').replace(/\/v1$/, '')
  return `${url.origin}${path}`
}

function positiveOption(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new VLLMTitoError(`new VLLMClient: \`${name}\` must be a positive number of milliseconds`)
  }
  return value
}

function isIdList(value: unknown): value is number[] {
  return (
    Array.isArray(value) && value.every((id) => typeof id === 'number' && Number.isInteger(id) && id >= 0)
  )
}

function tokenizeBody(input: TokenizeInput): Record<string, unknown> {
  if (!isRecord(input))
    throw new VLLMTitoError('tokenize: input must be an object with `messages` or `prompt`')
  const hasMessages = input.messages !== undefined
  const hasPrompt = input.prompt !== undefined
  if (hasMessages === hasPrompt) {
    throw new VLLMTitoError('tokenize: give exactly one of `messages` (chat form) or `prompt` (text form)')
  }
  const body: Record<string, unknown> = {}
  if (input.model !== undefined) body.model = input.model
  if (input.addSpecialTokens !== undefined) body.add_special_tokens = input.addSpecialTokens
  if (input.returnTokenStrings !== undefined) body.return_token_strs = input.returnTokenStrings
  if (input.prompt !== undefined) {
    if (typeof input.prompt !== 'string') throw new VLLMTitoError('tokenize: `prompt` must be a string')
    body.prompt = input.prompt
    return body
  }
  if (!Array.isArray(input.messages)) throw new VLLMTitoError('tokenize: `messages` must be an array')
  body.messages = input.messages
  if (input.tools !== undefined) body.tools = input.tools
  if (input.addGenerationPrompt !== undefined) body.add_generation_prompt = input.addGenerationPrompt
  if (input.continueFinalMessage !== undefined) body.continue_final_message = input.continueFinalMessage
  if (input.chatTemplateKwargs !== undefined) body.chat_template_kwargs = input.chatTemplateKwargs
  if (input.chatTemplate !== undefined) body.chat_template = input.chatTemplate
  return body
}
