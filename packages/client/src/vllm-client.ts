import {
  type ChatRequest,
  type ClientCallObserver,
  type CompletionRequest,
  noopClientCallObserver,
  OptionReader,
  type TokenRecord,
  type TokenStreamingClient,
} from '@vllm-tito/spec'
import { BodyTokenStream } from './body-token-stream'
import { buildRecords } from './build-records'
import { readClientOptions } from './client-options'
import type { EventBatch } from './event-batch'
import { malformedBody, requestJson } from './json-request'
import { validateChatRequest, validateCompletionRequest, wireBody } from './request-bodies'
import { chatSettings, completionSettings, type ResponseSettings } from './response-settings'
import { ResponseState } from './response-state'
import { fromStatus } from './to-api-call-error'
import { enforceTokenIdPolicy, type TokenIdPolicy } from './token-id-policy'
import { UtilityEndpoints } from './utility-endpoints'
import type {
  MismatchPolicy,
  TokenCallOptions,
  TokenizeInput,
  TokenizeResult,
  UtilityCallOptions,
  VLLMModelInfo,
} from './utility-types'
import { TokenStreamCall, type VLLMTokenStream } from './vllm-token-stream'
import { notify, VLLMTransport } from './vllm-transport'
import { MalformedResponseError, readErrorInfo } from './wire-errors'

/** Options of {@link VLLMClient}. */
export interface VLLMClientOptions {
  /**
   * The server's root or its OpenAI base URL, e.g. `http://127.0.0.1:8000` or `http://127.0.0.1:8000/v1`; a
   * path prefix is kept (`http://host/proxy/rollout/r1/openai/v1`). A trailing `/v1` or `/` is removed: chat
   * and completions go to `<root>/v1/…`, the utility endpoints to `<root>/tokenize` and so on.
   */
  baseUrl: string
  /** Sent as `Authorization: Bearer <apiKey>`. Default `'EMPTY'` (vLLM without `--api-key` ignores it). */
  apiKey?: string
  /**
   * Milliseconds to wait for the response headers of one attempt, for the body of a non-streaming call, and
   * the longest silence between two body reads of a stream (a stalled stream fails with
   * `StreamInterruptedError`). Default 600 000 (10 minutes).
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

/** The three ways to call an endpoint. */
type CallMethod = 'stream' | 'create' | 'createEvents'

/** One call, checked and in its wire form. */
interface PreparedCall {
  /** Endpoint path, e.g. `/v1/chat/completions`. */
  path: string
  /** The method called, for error messages, e.g. `chat.stream`. */
  method: string
  /** The request body sent. */
  body: Record<string, unknown>
  /** How to read the answer. */
  settings: ResponseSettings
}

const CHAT_PATH = '/v1/chat/completions'
const COMPLETIONS_PATH = '/v1/completions'

/**
 * A streaming token-id client for vLLM's OpenAI-compatible server: every call yields {@link TokenRecord}s with
 * the exact prompt and completion token ids vLLM sampled, logprobs aligned with them, and a verification
 * against the server's `usage`. Implements the spec's `TokenStreamingClient`. The API key never appears in
 * an error, a log line, `toString()`, `JSON.stringify` or `util.inspect` of the client.
 *
 * @throws InvalidOptionError (from `@vllm-tito/spec`) naming the option, for a bad or misspelt option.
 */
export class VLLMClient implements TokenStreamingClient {
  /** Server root the client talks to (no `/v1`, no trailing slash). */
  readonly baseUrl: string
  readonly #transport: VLLMTransport
  readonly #utilities: UtilityEndpoints
  readonly #timeoutMs: number
  readonly #policy: TokenIdPolicy
  readonly #observer: ClientCallObserver

  /** `/v1/chat/completions`. */
  readonly chat: {
    /** Starts a streaming chat call; the request is sent when the stream is first read. */
    stream(request: ChatRequest, options?: TokenCallOptions): VLLMTokenStream
    /** A non-streaming chat call: one record per choice. */
    create(request: ChatRequest, options?: TokenCallOptions): Promise<TokenRecord[]>
    /**
     * A non-streaming chat call (`stream: false`) read as the events a stream of the same reply gives, one
     * delta of each kind per choice, then `response-end`; for servers that refuse streaming (Agent Lightning's
     * gateway). The request is sent when the stream is first read; failures are those of `create()`.
     */
    createEvents(request: ChatRequest, options?: TokenCallOptions): VLLMTokenStream
  }

  /** `/v1/completions`, the token-in endpoint (`prompt` may be `number[]` or `number[][]`). */
  readonly completions: {
    /** Starts a streaming completions call; the request is sent when the stream is first read. */
    stream(request: CompletionRequest, options?: TokenCallOptions): VLLMTokenStream
    /** A non-streaming completions call: one record per prompt × choice, each with its prompt ids. */
    create(request: CompletionRequest, options?: TokenCallOptions): Promise<TokenRecord[]>
    /** A non-streaming completions call read as the events a stream gives (see `chat.createEvents`). */
    createEvents(request: CompletionRequest, options?: TokenCallOptions): VLLMTokenStream
  }

  constructor(options: VLLMClientOptions) {
    const settings = readClientOptions(options)
    this.baseUrl = settings.root
    this.#timeoutMs = settings.timeoutMs
    this.#policy = settings.policy
    this.#observer = settings.observer ?? noopClientCallObserver
    this.#transport = new VLLMTransport({ ...settings, observer: this.#observer })
    this.#utilities = new UtilityEndpoints(this.#transport, this.#timeoutMs)
    this.chat = this.#endpoint('chat', CHAT_PATH, validateChatRequest, chatSettings)
    this.completions = this.#endpoint(
      'completions',
      COMPLETIONS_PATH,
      validateCompletionRequest,
      completionSettings,
    )
  }

  /**
   * `POST /tokenize`: a conversation rendered exactly as chat renders it (so `count == usage.prompt_tokens`),
   * or a plain prompt.
   */
  tokenize(input: TokenizeInput, options?: UtilityCallOptions): Promise<TokenizeResult> {
    return this.#utilities.tokenize(input, options)
  }

  /** `POST /detokenize`: the text of `tokenIds` (special tokens kept as the server decodes them). */
  detokenize(
    tokenIds: readonly number[],
    options?: UtilityCallOptions & { model?: string },
  ): Promise<string> {
    return this.#utilities.detokenize(tokenIds, options)
  }

  /**
   * `GET /health`: `true` when the server answers 200, `false` when it answers an error status or cannot be
   * reached. Not retried. Rejects only when `signal` aborts.
   */
  health(options?: UtilityCallOptions): Promise<boolean> {
    return this.#utilities.health(options)
  }

  /** `GET /version`: the server's vLLM version, e.g. `0.11.0`. */
  version(options?: UtilityCallOptions): Promise<string> {
    return this.#utilities.version(options)
  }

  /** `GET /v1/models`: the served models with their context length. */
  models(options?: UtilityCallOptions): Promise<VLLMModelInfo[]> {
    return this.#utilities.models(options)
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

  /** The calls of one endpoint: the request is checked, then sent in its wire form. */
  #endpoint<R extends ChatRequest | CompletionRequest>(
    name: 'chat' | 'completions',
    path: string,
    validate: (request: R, method: string) => void,
    settingsOf: (request: R, streaming: boolean) => ResponseSettings,
  ) {
    const prepare = (request: R, callMethod: CallMethod): PreparedCall => {
      const method = `${name}.${callMethod}`
      const streaming = callMethod === 'stream'
      validate(request, method)
      return { path, method, body: wireBody(request, streaming), settings: settingsOf(request, streaming) }
    }
    return {
      stream: (request: R, options?: TokenCallOptions): VLLMTokenStream =>
        this.#stream(prepare(request, 'stream'), options),
      create: async (request: R, options?: TokenCallOptions): Promise<TokenRecord[]> => {
        const call = prepare(request, 'create')
        const { policy, signal } = this.#callOptions(call.method, options)
        return this.#readBody(call, policy, signal, null)
      },
      createEvents: (request: R, options?: TokenCallOptions): VLLMTokenStream => {
        const call = prepare(request, 'createEvents')
        const { policy, signal } = this.#callOptions(call.method, options)
        return new BodyTokenStream(
          (callSignal, events) => this.#readBody(call, policy, callSignal, events),
          signal,
        )
      },
    }
  }

  #stream(call: PreparedCall, options: TokenCallOptions | undefined): VLLMTokenStream {
    const { policy, signal } = this.#callOptions(call.method, options)
    const { path, body } = call
    return new TokenStreamCall({
      start: (callSignal) =>
        this.#transport.send({ method: 'post', path, body, stream: true, signal: callSignal }),
      settings: call.settings,
      policy,
      idleTimeoutMs: this.#timeoutMs,
      observer: this.#observer,
      signal,
    })
  }

  /**
   * A non-streaming call: the body goes through the same response state as a stream's chunks, pushing its
   * events to `events` when given.
   */
  async #readBody(
    call: PreparedCall,
    policy: TokenIdPolicy,
    signal: AbortSignal | undefined,
    events: EventBatch | null,
  ): Promise<TokenRecord[]> {
    const { path, body, settings } = call
    try {
      const request = { method: 'post' as const, path, body, signal }
      const { parsed, started } = await requestJson(this.#transport, request, this.#timeoutMs)
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
      const response = new ResponseState(settings, events)
      try {
        response.apply(parsed)
      } catch (error) {
        if (error instanceof MalformedResponseError) throw malformedBody(path, error.message, parsed)
        throw error
      }
      const timing = { startedAt: started.startedAt, firstByteAt: started.firstByteAt, endedAt: Date.now() }
      const records = buildRecords(response, { timing, complete: true })
      enforceTokenIdPolicy(records, policy)
      notify(() => this.#observer.onRecords?.(records))
      return records
    } catch (error) {
      if (error instanceof Error) notify(() => this.#observer.onError?.(error))
      throw error
    }
  }

  /** A call's options: the signal, and the token-id policy with the client's defaults. */
  #callOptions(method: string, options: TokenCallOptions | undefined) {
    const read = new OptionReader(method, options).rejectUnknown(['signal', 'requireTokenIds', 'onMismatch'])
    const policy: TokenIdPolicy = {
      requireTokenIds: read.boolean('requireTokenIds') ?? this.#policy.requireTokenIds,
      onMismatch: read.oneOf('onMismatch', ['flag', 'throw']) ?? this.#policy.onMismatch,
    }
    const signal = read.custom('signal', 'an AbortSignal', (value) => value instanceof AbortSignal)
    return { policy, signal: signal as AbortSignal | undefined }
  }
}
