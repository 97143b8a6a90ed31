import OpenAI from 'openai'

/**
 * The only module that knows the `openai` SDK. The SDK builds and sends each request (URL, auth header,
 * default headers, the time-to-headers timeout, the injected `fetch`); everything it would interpret is kept
 * away from it. The adapter hands it a `fetch` of its own that answers with every 2xx response unchanged
 * and turns everything else into errors of this module (carrying the status, headers and raw body of an error
 * response, or the network failure), which it then finds again in whatever the SDK throws. Nothing is read
 * from the SDK's error classes or message texts, so the adapter behaves the same on every supported major
 * (`^6.45 || ^7`; `openai-adapter.contract.test.ts` checks each).
 */

/** What the adapter uses of the SDK's client class: the same in openai 6 and 7. */
export interface OpenAIClientClass {
  new (options: {
    apiKey: string
    baseURL: string
    timeout: number
    maxRetries: number
    fetch: typeof globalThis.fetch
    defaultHeaders?: Record<string, string>
    logLevel: 'off'
  }): {
    get(path: string, options: SdkRequestOptions): { asResponse(): Promise<Response> }
    post(path: string, options: SdkRequestOptions): { asResponse(): Promise<Response> }
  }
}

interface SdkRequestOptions {
  body?: unknown
  stream?: boolean
  signal?: AbortSignal
  maxRetries: number
}

/** Settings of an {@link OpenAIAdapter}. */
export interface AdapterSettings {
  /** Sent as `Authorization: Bearer <apiKey>`. */
  apiKey: string
  /** Longest wait for the response headers of one request, in milliseconds. */
  timeoutMs: number
  /** A `fetch` to use instead of the global one, looked up per request. */
  fetch?: typeof globalThis.fetch
  /** Headers sent with every request. */
  defaultHeaders?: Record<string, string>
}

/** One request: an absolute URL, so a base URL with a path prefix is kept exactly. */
export interface AdapterRequest {
  /** The HTTP method. */
  method: 'get' | 'post'
  /** The absolute URL, e.g. `http://host/prefix/v1/chat/completions`. */
  url: string
  /** The JSON body (POST only). */
  body?: unknown
  /** Tells the SDK not to wait for a JSON body (SSE responses). */
  stream?: boolean
  /** Aborts the request, and the body once it is being read. */
  signal: AbortSignal
}

/** Why a request got no 2xx response. */
export type AdapterFailure =
  /** The server answered with an error status; `body` is the raw text (`''` when none arrived). */
  | { kind: 'status'; status: number; headers: Headers; body: string }
  /** The request could not be sent or the connection failed before the headers; `cause` is fetch's error. */
  | { kind: 'connection'; cause: unknown }
  /** No headers arrived within `timeoutMs`. */
  | { kind: 'timeout' }
  /** The request's signal aborted. */
  | { kind: 'aborted' }
  /** Anything else the SDK threw (e.g. an invalid header value); `cause` is its error. */
  | { kind: 'other'; cause: unknown }

/** Thrown by {@link OpenAIAdapter.send} when no 2xx response arrived. */
export class AdapterError extends Error {
  override readonly name = 'AdapterError'
  /** What went wrong. */
  readonly failure: AdapterFailure

  constructor(failure: AdapterFailure) {
    super(`request failed: ${failure.kind}`)
    this.failure = failure
  }
}

/** Sends requests through the `openai` SDK's client class and returns raw 2xx responses. */
export class OpenAIAdapter {
  readonly #client: InstanceType<OpenAIClientClass>

  /** `clientClass` is for the contract tests, which run the adapter against each supported major. */
  constructor(settings: AdapterSettings, clientClass: OpenAIClientClass = OpenAI) {
    this.#client = new clientClass({
      apiKey: settings.apiKey,
      // every request passes an absolute URL; the SDK requires a base URL all the same
      baseURL: 'http://unused.invalid',
      timeout: settings.timeoutMs,
      // retries happen in the transport, only before the first byte and reported to the observer
      maxRetries: 0,
      fetch: answeringFetch(settings.fetch),
      defaultHeaders: settings.defaultHeaders,
      logLevel: 'off',
    })
  }

  /** The 2xx response of `request` (its body unread), or an {@link AdapterError}. */
  async send(request: AdapterRequest): Promise<Response> {
    const options = { body: request.body, stream: request.stream, signal: request.signal, maxRetries: 0 }
    try {
      const promise =
        request.method === 'get'
          ? this.#client.get(request.url, options)
          : this.#client.post(request.url, options)
      return await promise.asResponse()
    } catch (error) {
      throw new AdapterError(classify(error, request.signal))
    }
  }
}

/** An error response, thrown by the adapter's `fetch` so that the SDK never reads or rewrites its body. */
class ErrorResponse extends Error {
  override readonly name = 'ErrorResponse'
  constructor(
    readonly status: number,
    readonly headers: Headers,
    readonly body: string,
  ) {
    // no `cause` and an inert message: the SDK must see nothing it could read as a timeout or an abort
    super('error response')
  }
}

/** `fetch` failed without an abort (connection refused, reset, DNS); the original error is kept aside. */
class FetchFailure extends Error {
  override readonly name = 'FetchFailure'
  constructor(readonly original: unknown) {
    super('fetch failure')
  }
}

/** `fetch` was aborted through the SDK's own signal: by the caller's signal or by the SDK's timeout. */
class FetchAborted extends Error {
  override readonly name = 'FetchAborted'
  constructor() {
    super('fetch stopped')
  }
}

function answeringFetch(custom: typeof globalThis.fetch | undefined): typeof globalThis.fetch {
  return async (input, init) => {
    let response: Response
    try {
      // looked up per call, so a global fetch replaced after the client was built is still used
      response = await (custom ?? globalThis.fetch)(input, init)
    } catch (error) {
      throw init?.signal?.aborted === true ? new FetchAborted() : new FetchFailure(error)
    }
    if (response.status < 400) return response
    // error bodies are small; one that fails to arrive reads as empty
    const body = await response.text().catch(() => '')
    throw new ErrorResponse(response.status, response.headers, body)
  }
}

/** What went wrong, from the request's signal and the adapter's own errors wherever the SDK put them. */
function classify(error: unknown, signal: AbortSignal): AdapterFailure {
  if (signal.aborted) return { kind: 'aborted' }
  const own = findOwnError(error)
  if (own instanceof ErrorResponse) {
    return { kind: 'status', status: own.status, headers: own.headers, body: own.body }
  }
  if (own instanceof FetchFailure) return { kind: 'connection', cause: own.original }
  // the SDK's signal aborted while the caller's did not: only its time-to-headers timeout does that
  if (own instanceof FetchAborted) return { kind: 'timeout' }
  return { kind: 'other', cause: error }
}

/** The adapter's error in `error` or its chain of causes (the SDK wraps what `fetch` throws). */
function findOwnError(error: unknown): Error | undefined {
  let current: unknown = error
  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    if (
      current instanceof ErrorResponse ||
      current instanceof FetchFailure ||
      current instanceof FetchAborted
    ) {
      return current
    }
    current = current.cause
  }
  return undefined
}
