import { hasErrorMarker as hasMarker } from './error-marker'
import type { TokenRecord, TokenVerification } from './token-record'

const BASE_MARKER = 'vllm-tito.error'
const baseSymbol = Symbol.for(BASE_MARKER)

/**
 * The base of every error vllm-tito throws. Use {@link VLLMTitoError.isInstance} rather than `instanceof`:
 * it also recognises errors created by another installed copy of the package.
 */
export class VLLMTitoError extends Error {
  readonly [baseSymbol] = true
  override readonly name: string = 'VLLMTitoError'

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
  }

  /** `true` for any vllm-tito error, from any copy of the package. */
  static isInstance(error: unknown): error is VLLMTitoError {
    return hasMarker(error, baseSymbol)
  }
}

const apiCallSymbol = Symbol.for(`${BASE_MARKER}.api-call`)

/** Fields of an {@link APICallError}. */
export interface APICallErrorOptions {
  message: string
  /** HTTP status, or `undefined` for connection-level failures. */
  statusCode?: number
  /** Whether the same request may succeed when retried (connect errors, 408, 409, 429, 5xx). */
  isRetryable?: boolean
  /** The raw response body as text (never contains the API key). */
  responseBody?: string
  /** vLLM's `error.type`, e.g. `BadRequestError`. */
  errorType?: string
  /** vLLM's `error.param`, e.g. `input_tokens`. */
  param?: string | null
  /** Endpoint path that failed, e.g. `/v1/chat/completions`. */
  path?: string
  /** Seconds from a `Retry-After` header, when sent. */
  retryAfterSeconds?: number
  cause?: unknown
}

/** The server answered with an error status or an error body. */
export class APICallError extends VLLMTitoError {
  readonly [apiCallSymbol] = true
  override readonly name: string = 'APICallError'
  /** HTTP status (vLLM's `error.code`), or `undefined` for connection-level failures. */
  readonly statusCode: number | undefined
  /** Whether retrying the same request may succeed. */
  readonly isRetryable: boolean
  /** Raw response body text, when there was one. */
  readonly responseBody: string | undefined
  /** vLLM's `error.type`. */
  readonly errorType: string | undefined
  /** vLLM's `error.param`. */
  readonly param: string | null | undefined
  /** Endpoint path. */
  readonly path: string | undefined
  /** Seconds from `Retry-After`, when sent. */
  readonly retryAfterSeconds: number | undefined

  constructor(options: APICallErrorOptions) {
    super(options.message, { cause: options.cause })
    this.statusCode = options.statusCode
    this.isRetryable = options.isRetryable ?? isRetryableStatus(options.statusCode)
    this.responseBody = options.responseBody
    this.errorType = options.errorType
    this.param = options.param
    this.path = options.path
    this.retryAfterSeconds = options.retryAfterSeconds
  }

  static override isInstance(error: unknown): error is APICallError {
    return hasMarker(error, apiCallSymbol)
  }
}

/** Statuses worth retrying before any output arrived: timeouts, conflicts, throttling, server errors. */
export function isRetryableStatus(statusCode: number | undefined): boolean {
  if (statusCode === undefined) return true
  return statusCode === 408 || statusCode === 409 || statusCode === 429 || statusCode >= 500
}

const contextOverflowSymbol = Symbol.for(`${BASE_MARKER}.context-overflow`)

/** The prompt plus `max_tokens` exceed the model's context (HTTP 400, any of vLLM's four wordings). */
export class ContextOverflowError extends APICallError {
  readonly [contextOverflowSymbol] = true
  override readonly name: string = 'ContextOverflowError'

  constructor(options: APICallErrorOptions) {
    super({ ...options, isRetryable: false })
  }

  static override isInstance(error: unknown): error is ContextOverflowError {
    return hasMarker(error, contextOverflowSymbol)
  }
}

const streamingUnsupportedSymbol = Symbol.for(`${BASE_MARKER}.streaming-unsupported`)

/**
 * The server refused a streaming call: HTTP 400 saying streaming is not supported. Agent Lightning's gateway
 * answers every `stream: true` call so (`{"detail":"Streaming responses are not supported"}`); a
 * non-streaming call of the same request goes through. Never retryable.
 */
export class StreamingUnsupportedError extends APICallError {
  readonly [streamingUnsupportedSymbol] = true
  override readonly name: string = 'StreamingUnsupportedError'

  constructor(options: APICallErrorOptions) {
    super({ ...options, isRetryable: false })
  }

  static override isInstance(error: unknown): error is StreamingUnsupportedError {
    return hasMarker(error, streamingUnsupportedSymbol)
  }
}

const unavailableSymbol = Symbol.for(`${BASE_MARKER}.token-ids-unavailable`)

/** The server returned no token ids although they were required. */
export class TokenIdsUnavailableError extends VLLMTitoError {
  readonly [unavailableSymbol] = true
  override readonly name: string = 'TokenIdsUnavailableError'
  /** The records as received, ids `null`, flagged `unavailable`. */
  readonly records: TokenRecord[]

  constructor(records: TokenRecord[], message?: string) {
    super(
      message ??
        'the server returned no token ids: use vLLM >= 0.10.2, send `return_token_ids: true`, and make sure no proxy strips `prompt_token_ids`/`token_ids`',
    )
    this.records = records
  }

  static override isInstance(error: unknown): error is TokenIdsUnavailableError {
    return hasMarker(error, unavailableSymbol)
  }
}

const mismatchSymbol = Symbol.for(`${BASE_MARKER}.token-ids-mismatch`)

/** Token ids arrived, but their counts disagree with the server's `usage` (the ids are not exact). */
export class TokenIdsMismatchError extends VLLMTitoError {
  readonly [mismatchSymbol] = true
  override readonly name: string = 'TokenIdsMismatchError'
  /** The records as received, flagged `mismatch`. */
  readonly records: TokenRecord[]
  /** The verification of the first mismatching record. */
  readonly verification: TokenVerification

  constructor(records: TokenRecord[], verification: TokenVerification) {
    super(`token ids do not match usage: ${verification.issues.join('; ')}`)
    this.records = records
    this.verification = verification
  }

  static override isInstance(error: unknown): error is TokenIdsMismatchError {
    return hasMarker(error, mismatchSymbol)
  }
}

const interruptedSymbol = Symbol.for(`${BASE_MARKER}.stream-interrupted`)

/**
 * A stream failed after output had started (connection dropped, mid-stream `data: {"error": …}`, malformed
 * chunk, missing `[DONE]`). Nothing already received is lost: the partial records are attached, marked
 * `complete: false` with verification status `incomplete`.
 */
export class StreamInterruptedError extends VLLMTitoError {
  readonly [interruptedSymbol] = true
  override readonly name: string = 'StreamInterruptedError'
  /** What arrived before the failure, one record per choice seen. */
  readonly partialRecords: TokenRecord[]
  /** HTTP-like status of a mid-stream error body (`error.code`), when the server sent one. */
  readonly statusCode: number | undefined

  constructor(
    message: string,
    partialRecords: TokenRecord[],
    options?: { cause?: unknown; statusCode?: number },
  ) {
    super(message, { cause: options?.cause })
    this.partialRecords = partialRecords
    this.statusCode = options?.statusCode
  }

  /** The partial record of choice 0 (the usual single-choice case), or `undefined`. */
  get partialRecord(): TokenRecord | undefined {
    return this.partialRecords[0]
  }

  static override isInstance(error: unknown): error is StreamInterruptedError {
    return hasMarker(error, interruptedSymbol)
  }
}
