import { setTimeout as sleep } from 'node:timers/promises'
import type { APICallError, ClientCallObserver } from '@vllm-tito/spec'
import { abortReasonError } from './call-abort'
import { AdapterError, OpenAIAdapter, type OpenAIClientClass } from './openai-adapter'
import { type CallSite, toApiCallError } from './to-api-call-error'

/** Transport settings, taken from the client options. */
export interface TransportSettings {
  /** Server root without `/v1` and without credentials, e.g. `http://127.0.0.1:8000` or `http://host/prefix`. */
  root: string
  /** Sent as `Authorization: Bearer <apiKey>`. */
  apiKey: string
  /** Longest wait for the headers of one attempt, in milliseconds. */
  timeoutMs: number
  /** Retries before the first response byte. */
  maxRetries: number
  /** A `fetch` to use instead of the global one. */
  fetch?: typeof globalThis.fetch
  /** Headers sent with every request. */
  defaultHeaders?: Record<string, string>
  /** Told about every attempt and retry. */
  observer: ClientCallObserver
  /** The SDK's client class (the contract tests pass each supported major). */
  clientClass?: OpenAIClientClass
}

/** One HTTP request to send. */
export interface TransportRequest {
  /** The HTTP method. */
  method: 'get' | 'post'
  /** Path from the server root, e.g. `/v1/chat/completions` or `/tokenize`. */
  path: string
  /** The JSON body (POST only). */
  body?: unknown
  /** The response is an SSE stream. */
  stream?: boolean
  /** The call's signal (see `CallAbort`); aborting it also aborts the body read. */
  signal: AbortSignal
  /** Overrides the client's `maxRetries` (e.g. `0` for `health()`). */
  maxRetries?: number
}

/** A response whose headers arrived with a 2xx status, and when the call started and answered. */
export interface TransportResponse {
  /** The 2xx response, its body unread. */
  response: Response
  /** `Date.now()` when the first attempt was sent. */
  startedAt: number
  /** `Date.now()` when the headers of the answering attempt arrived. */
  firstByteAt: number
}

/** Retry-After values above this are not waited for: the error is returned so the caller can decide. */
const MAX_RETRY_AFTER_MS = 60_000
const BASE_BACKOFF_MS = 500
const MAX_BACKOFF_MS = 8_000

/**
 * Sends requests through the {@link OpenAIAdapter} and retries only before the first response byte (connect
 * errors, header timeouts, 408, 409, 429, 5xx), honouring `Retry-After` and reporting each attempt to the
 * observer. Once a 2xx response started nothing is retried, so partial output is never silently replayed.
 */
export class VLLMTransport {
  readonly #adapter: OpenAIAdapter
  readonly #settings: TransportSettings

  constructor(settings: TransportSettings) {
    this.#settings = settings
    this.#adapter = new OpenAIAdapter(
      {
        apiKey: settings.apiKey,
        timeoutMs: settings.timeoutMs,
        fetch: settings.fetch,
        defaultHeaders: settings.defaultHeaders,
      },
      settings.clientClass,
    )
  }

  /** The call site used in error messages. */
  site(path: string): CallSite {
    return { path, origin: this.#settings.root }
  }

  /**
   * Sends `request`, retrying before the first byte. Rejects with the abort reason when its signal aborts,
   * otherwise with an {@link APICallError} (or `ContextOverflowError`).
   */
  async send(request: TransportRequest): Promise<TransportResponse> {
    const startedAt = Date.now()
    const maxRetries = request.maxRetries ?? this.#settings.maxRetries
    const observer = this.#settings.observer
    const url = `${this.#settings.root}${request.path}`
    for (let attempt = 1; ; attempt += 1) {
      notify(() => observer.onAttempt?.({ path: request.path, attempt }))
      try {
        const response = await this.#adapter.send({ ...request, url })
        return { response, startedAt, firstByteAt: Date.now() }
      } catch (error) {
        if (request.signal.aborted) throw abortReasonError(request.signal)
        const failure =
          error instanceof AdapterError ? error.failure : { kind: 'other' as const, cause: error }
        const mapped = toApiCallError(failure, this.site(request.path), request.stream === true)
        const delayMs = attempt <= maxRetries ? retryDelayMs(mapped, attempt) : null
        if (delayMs === null) throw mapped
        notify(() => observer.onRetry?.({ path: request.path, attempt, delayMs, error: mapped }))
        await sleep(delayMs, undefined, { signal: request.signal }).catch(() => {
          throw abortReasonError(request.signal)
        })
      }
    }
  }
}

/** How long to wait before the next attempt, or `null` when the error must not be retried. */
export function retryDelayMs(error: APICallError, attempt: number, random = Math.random): number | null {
  if (!error.isRetryable) return null
  if (error.retryAfterSeconds !== undefined) {
    const requested = error.retryAfterSeconds * 1000
    return requested <= MAX_RETRY_AFTER_MS ? requested : null
  }
  const backoff = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** (attempt - 1))
  // up to 25% jitter, so clients that failed together do not retry together
  return Math.round(backoff * (1 - 0.25 * random()))
}

/** Calls an observer callback; an observer that throws must not break the call it observes. */
export function notify(callback: () => void): void {
  try {
    callback()
  } catch {
    // observers are told not to throw; a faulty one is ignored rather than failing the model call
  }
}
