import { type APICallError, type ClientCallObserver, VLLMTitoError } from '@vllm-tito/spec'
import OpenAI from 'openai'
import { type CallSite, isAbortError, toApiCallError } from './to-api-call-error'

/** Transport settings, taken from the client options. */
export interface TransportSettings {
  /** Server root without `/v1` and without credentials in the URL, e.g. `http://127.0.0.1:8000`. */
  root: string
  apiKey: string
  timeoutMs: number
  maxRetries: number
  fetch?: typeof globalThis.fetch
  defaultHeaders?: Record<string, string>
  observer: ClientCallObserver
}

/** One HTTP request to send. */
export interface TransportRequest {
  method: 'get' | 'post'
  /** Path from the server root, e.g. `/v1/chat/completions` or `/tokenize`. */
  path: string
  body?: unknown
  /** Sent to the SDK so it does not try to parse an SSE body. */
  stream?: boolean
  signal?: AbortSignal
  /** Overrides the client's `maxRetries` (e.g. `0` for `health()`). */
  maxRetries?: number
}

/** A response whose headers arrived with a 2xx status, and when the call started and answered. */
export interface TransportResponse {
  response: Response
  startedAt: number
  firstByteAt: number
}

/** Retry-After values above this are not waited for: the error is returned so the caller can decide. */
const MAX_RETRY_AFTER_MS = 60_000
const BASE_BACKOFF_MS = 500
const MAX_BACKOFF_MS = 8_000

/**
 * Sends requests through the official `openai` SDK (request building, auth header, default headers, the
 * time-to-headers timeout, the injected `fetch`) and returns the raw `Response`, whose body the client reads
 * itself. The SDK's own retries are off: this loop retries only before the first response byte (connect
 * errors, 408, 409, 429, 5xx), honours `Retry-After`, reports each attempt to the observer, and never
 * retries once a 2xx response started, so partial output is never silently replayed.
 */
export class VLLMTransport {
  readonly #openai: OpenAI
  readonly #settings: TransportSettings

  /** Raw text of each error response, keyed by the `Headers` object the SDK's `APIError` keeps. */
  readonly #errorBodies = new WeakMap<Headers, string>()

  constructor(settings: TransportSettings) {
    this.#settings = settings
    this.#openai = new OpenAI({
      apiKey: settings.apiKey,
      baseURL: `${settings.root}/v1`,
      timeout: settings.timeoutMs,
      maxRetries: 0,
      fetch: this.#fetchKeepingErrorBodies(settings.fetch),
      defaultHeaders: settings.defaultHeaders,
      logLevel: 'off',
    })
  }

  /** The call site used in error messages. */
  site(path: string): CallSite {
    return { path, origin: this.#settings.root }
  }

  /**
   * Sends `request`, retrying before the first byte. Rejects with the caller's abort reason when its signal
   * aborts, otherwise with an {@link APICallError} (or `ContextOverflowError`).
   */
  async send(request: TransportRequest): Promise<TransportResponse> {
    const startedAt = Date.now()
    const maxRetries = request.maxRetries ?? this.#settings.maxRetries
    const observer = this.#settings.observer
    for (let attempt = 1; ; attempt += 1) {
      notify(() => observer.onAttempt({ path: request.path, attempt }))
      try {
        const response = await this.#attempt(request)
        return { response, startedAt, firstByteAt: Date.now() }
      } catch (error) {
        if (request.signal?.aborted || isAbortError(error)) throw abortReason(request.signal, error)
        const mapped = toApiCallError(error, this.site(request.path), this.#errorBodyOf(error))
        const delayMs = attempt <= maxRetries ? retryDelayMs(mapped, attempt) : null
        if (delayMs === null) throw mapped
        notify(() => observer.onRetry({ path: request.path, attempt, delayMs, error: mapped }))
        await sleep(delayMs, request.signal)
      }
    }
  }

  /**
   * The `fetch` handed to the SDK: it reads an error response's body itself and hands the SDK a copy. The
   * SDK's own reading depends on its version (openai 6 loses vLLM's flat `{"object": "error", …}` body, openai
   * 7 re-serialises it), while the error needs the raw text and both vLLM body forms.
   */
  #fetchKeepingErrorBodies(custom: typeof globalThis.fetch | undefined): typeof globalThis.fetch {
    return async (input, init) => {
      // looked up per call, so a global fetch replaced after the client was built is still used
      const response = await (custom ?? globalThis.fetch)(input, init)
      if (response.status < 400) return response
      // error bodies are small; a body that fails to arrive reads as empty, as the SDK would treat it
      const text = await response.text().catch(() => '')
      const copy = new Response(text, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      })
      this.#errorBodies.set(copy.headers, text)
      return copy
    }
  }

  #errorBodyOf(error: unknown): string | undefined {
    if (!(error instanceof OpenAI.APIError) || !(error.headers instanceof Headers)) return undefined
    return this.#errorBodies.get(error.headers)
  }

  #attempt(request: TransportRequest): Promise<Response> {
    const url = `${this.#settings.root}${request.path}`
    const options = {
      body: request.body,
      stream: request.stream,
      signal: request.signal,
      maxRetries: 0,
    }
    const promise =
      request.method === 'get' ? this.#openai.get(url, options) : this.#openai.post(url, options)
    return promise.asResponse()
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

/** The error to surface for an abort: the caller's reason when it is an error, else a DOM `AbortError`. */
export function abortReason(signal: AbortSignal | undefined, fallback: unknown): unknown {
  const reason: unknown = signal?.reason
  if (reason instanceof Error) return reason
  if (fallback instanceof Error && fallback.name === 'AbortError') return fallback
  return new DOMException('the request was aborted', 'AbortError')
}

function sleep(delayMs: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal, undefined))
      return
    }
    const onAbort = () => {
      clearTimeout(timer)
      reject(abortReason(signal, undefined))
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, delayMs)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** Calls an observer callback; an observer that throws must not break the call it observes. */
export function notify(callback: () => void): void {
  try {
    callback()
  } catch {
    // observers are told not to throw; a faulty one is ignored rather than failing the model call
  }
}

/** Thrown when a method gets input it cannot send; the message names the field. */
export function invalidInput(message: string): VLLMTitoError {
  return new VLLMTitoError(message)
}
