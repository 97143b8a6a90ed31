import {
  APICallError,
  type APICallErrorOptions,
  ContextOverflowError,
  isRetryableStatus,
  StreamingUnsupportedError,
} from '@vllm-tito/spec'
import type { AdapterFailure } from './openai-adapter'
import { readDetailInfo, readErrorInfo } from './wire-errors'

/**
 * vLLM's context-overflow texts all say "context length": "This model's maximum context length is …"
 * (≤ 0.9, 0.10–0.15, ≥ vllm-project/vllm#36197), "'max_tokens' … is too large … maximum context length"
 * (0.10–0.15) and "… the model's context length is only …" (≈0.16–0.17, tokens and characters variants).
 * See `docs/vllm-wire-protocol.md`, "Context overflow".
 */
const CONTEXT_OVERFLOW_PATTERN = /context length/i

/** `true` when a 400 error text is one of vLLM's context-overflow wordings. */
export function isContextOverflowMessage(message: string): boolean {
  return CONTEXT_OVERFLOW_PATTERN.test(message)
}

/**
 * Texts of servers that refuse streaming: Agent Lightning's gateway says "Streaming responses are not
 * supported" (`agentlightning/server/proxy.py`); other proxies say "streaming is not supported" or "does not
 * support streaming".
 */
const STREAMING_UNSUPPORTED_PATTERN = /\bstream(?:ing|s)?\b.*\bnot supported\b|\bdoes not support stream/i

/** `true` when a 400 error text says the server does not support streaming. */
export function isStreamingUnsupportedMessage(message: string): boolean {
  return STREAMING_UNSUPPORTED_PATTERN.test(message)
}

/** Where a failed call went: the endpoint path and the server origin (never with credentials). */
export interface CallSite {
  /** Endpoint path, e.g. `/v1/chat/completions`. */
  path: string
  /** Server root, e.g. `http://127.0.0.1:8000`. */
  origin: string
}

/** Seconds to wait from `retry-after-ms` or `Retry-After` (seconds or an HTTP date), when sent. */
export function readRetryAfterSeconds(headers: Headers, now = Date.now()): number | undefined {
  const milliseconds = headers.get('retry-after-ms')
  if (milliseconds !== null && Number.isFinite(Number(milliseconds)) && Number(milliseconds) >= 0) {
    return Number(milliseconds) / 1000
  }
  const value = headers.get('retry-after')
  if (value === null || value.trim() === '') return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds : undefined
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, (date - now) / 1000)
}

/**
 * The spec error for a request that got no 2xx response (aborts are not mapped: the caller's reason is
 * rethrown). An error status reads both vLLM body forms, nested `{"error": {…}}` (≥ v0.10.1) and flat
 * `{"object": "error", …}` (≤ v0.10.0), and the `{"detail": …}` of FastAPI proxies, keeping the raw text.
 * `streaming`: the request asked for a stream, so a 400 refusing streaming is a `StreamingUnsupportedError`.
 */
export function toApiCallError(failure: AdapterFailure, site: CallSite, streaming = false): APICallError {
  switch (failure.kind) {
    case 'status': {
      const parsed = parseJson(failure.body)
      const info = readErrorInfo(parsed) ?? readDetailInfo(parsed)
      return fromStatus({
        statusCode: failure.status,
        serverMessage: info?.message ?? (failure.body === '' ? '(no body)' : failure.body),
        errorType: info?.errorType,
        param: info?.param,
        responseBody: failure.body === '' ? undefined : failure.body,
        retryAfterSeconds: readRetryAfterSeconds(failure.headers),
        site,
        streaming,
      })
    }
    case 'timeout':
      return new APICallError({
        message: `timed out waiting for ${site.origin}${site.path} to answer`,
        isRetryable: true,
        path: site.path,
      })
    case 'connection':
      return new APICallError({
        message: `could not reach ${site.origin}${site.path}${describeCause(failure.cause)}`,
        isRetryable: true,
        path: site.path,
        cause: failure.cause,
      })
    default: {
      const cause = failure.kind === 'other' ? failure.cause : undefined
      return new APICallError({
        message: `${site.path} failed: ${cause instanceof Error ? cause.message : String(cause ?? failure.kind)}`,
        isRetryable: false,
        path: site.path,
        cause,
      })
    }
  }
}

/** Builds the spec error for an HTTP status and vLLM's error info. */
export function fromStatus(details: {
  statusCode: number
  serverMessage: string
  errorType?: string | undefined
  param?: string | null | undefined
  responseBody?: string | undefined
  retryAfterSeconds?: number | undefined
  site: CallSite
  /** The request asked for a stream. */
  streaming?: boolean
}): APICallError {
  const typeText = details.errorType === undefined ? '' : ` ${details.errorType}`
  const options: APICallErrorOptions = {
    message: `vLLM ${details.site.path} returned HTTP ${details.statusCode}${typeText}: ${details.serverMessage}`,
    statusCode: details.statusCode,
    isRetryable: isRetryableStatus(details.statusCode),
    responseBody: details.responseBody,
    errorType: details.errorType,
    param: details.param,
    path: details.site.path,
    retryAfterSeconds: details.retryAfterSeconds,
  }
  if (details.statusCode === 400 && isContextOverflowMessage(details.serverMessage)) {
    return new ContextOverflowError(options)
  }
  if (
    details.statusCode === 400 &&
    details.streaming === true &&
    isStreamingUnsupportedMessage(details.serverMessage)
  ) {
    const hint =
      'this server takes only non-streaming calls: use create() or createEvents() instead of stream()'
    return new StreamingUnsupportedError({ ...options, message: `${options.message} (${hint})` })
  }
  return new APICallError(options)
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}

/** `: fetch failed (connect ECONNREFUSED …)`: undici wraps the socket error in `cause` of "fetch failed". */
function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) return ''
  const inner = cause.cause instanceof Error ? cause.cause.message : undefined
  return inner === undefined || inner === '' ? `: ${cause.message}` : `: ${cause.message} (${inner})`
}
