import {
  APICallError,
  type APICallErrorOptions,
  ContextOverflowError,
  isRetryableStatus,
} from '@vllm-tito/spec'
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai'
import { readErrorInfo } from './wire-errors'

/**
 * vLLM's context-overflow texts all say "context length": "This model's maximum context length is …"
 * (≤ 0.9, 0.10–0.15, ≥ vllm-project/vllm#36197), "'max_tokens' … is too large … maximum context length"
 * (0.10–0.15) and "… the model's context length is only …" (≈0.16–0.17, tokens and characters variants).
 */
const CONTEXT_OVERFLOW_PATTERN = /maximum context length|context length is only|context length/i

/** `true` when a 400 error text is one of vLLM's context-overflow wordings. */
export function isContextOverflowMessage(message: string): boolean {
  return CONTEXT_OVERFLOW_PATTERN.test(message)
}

/** Where a failed call went: the endpoint path and the server origin (never with credentials). */
export interface CallSite {
  path: string
  origin: string
}

/** Marks an abort by the caller, so the retry loop stops and the caller's reason is rethrown. */
export function isAbortError(error: unknown): boolean {
  return error instanceof APIUserAbortError || (error instanceof Error && error.name === 'AbortError')
}

/** Seconds to wait from `retry-after-ms` or `Retry-After` (seconds or an HTTP date), when sent. */
export function readRetryAfterSeconds(headers: Headers | undefined, now = Date.now()): number | undefined {
  if (headers === undefined) return undefined
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
 * Turns an error of the `openai` SDK (or of an HTTP status with a vLLM error body) into the spec's
 * {@link APICallError} or {@link ContextOverflowError}. Reads both vLLM body forms: nested
 * `{"error": {…}}` (≥ v0.10.1) and flat `{"object": "error", …}` (≤ v0.10.0).
 */
export function toApiCallError(error: unknown, site: CallSite, rawBody?: string): APICallError {
  if (APICallError.isInstance(error)) return error
  if (error instanceof APIConnectionTimeoutError) {
    return new APICallError({
      message: `timed out waiting for ${site.origin}${site.path} to answer`,
      isRetryable: true,
      path: site.path,
      cause: error,
    })
  }
  if (error instanceof APIConnectionError) {
    const cause = error.cause instanceof Error ? `: ${describeCause(error.cause)}` : ''
    return new APICallError({
      message: `could not reach ${site.origin}${site.path}${cause}`,
      isRetryable: true,
      path: site.path,
      cause: error,
    })
  }
  if (error instanceof APIError && typeof error.status === 'number' && rawBody !== undefined) {
    const info = readErrorInfo(parseJson(rawBody))
    return fromStatus({
      statusCode: error.status,
      serverMessage: info?.message ?? (rawBody === '' ? '(no body)' : rawBody),
      errorType: info?.errorType,
      param: info?.param,
      responseBody: rawBody === '' ? undefined : rawBody,
      retryAfterSeconds: readRetryAfterSeconds(error.headers),
      site,
      cause: error,
    })
  }
  if (error instanceof APIError && typeof error.status === 'number') {
    // no raw text (an error built outside the transport): read what the SDK parsed
    const body: unknown = error.error
    const info = body === undefined || body === null ? null : readErrorInfo({ error: body })
    const statusPrefix = `${error.status} `
    const rawText = error.message.startsWith(statusPrefix)
      ? error.message.slice(statusPrefix.length)
      : undefined
    let responseBody: string | undefined
    if (body !== undefined && body !== null) {
      // the SDK parsed the body; the flat form is the body itself, the nested one sits under `error`
      const isFlat = typeof body === 'object' && (body as Record<string, unknown>).object === 'error'
      responseBody = JSON.stringify(isFlat ? body : { error: body })
    } else if (rawText !== undefined && rawText !== 'status code (no body)') {
      responseBody = rawText
    }
    return fromStatus({
      statusCode: error.status,
      serverMessage: info?.message ?? responseBody ?? '(no body)',
      errorType: info?.errorType,
      param: info?.param,
      responseBody,
      retryAfterSeconds: readRetryAfterSeconds(error.headers),
      site,
      cause: error,
    })
  }
  const message = error instanceof Error ? error.message : String(error)
  return new APICallError({
    message: `${site.path} failed: ${message}`,
    isRetryable: false,
    path: site.path,
    cause: error,
  })
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
  cause?: unknown
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
    cause: details.cause,
  }
  if (details.statusCode === 400 && isContextOverflowMessage(details.serverMessage)) {
    return new ContextOverflowError(options)
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

function describeCause(cause: Error): string {
  // undici wraps the socket error ("ECONNREFUSED …") in `cause` of a generic "fetch failed"
  const inner = cause.cause instanceof Error ? cause.cause.message : undefined
  return inner === undefined || inner === '' ? cause.message : `${cause.message} (${inner})`
}
