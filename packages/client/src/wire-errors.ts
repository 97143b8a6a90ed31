import { isPlainObject } from '@vllm-tito/spec'

/**
 * Internal errors raised while reading response bodies. The stream and the non-streaming calls turn them
 * into the public spec errors (`StreamInterruptedError`, `APICallError`) together with what arrived so far.
 */

/** A chunk or body that is not what vLLM sends: bad JSON, a wrong field type. The message names the field. */
export class MalformedResponseError extends Error {
  override readonly name = 'MalformedResponseError'
}

/** vLLM's `{"error": {…}}` payload, sent inside an HTTP 200 stream or body. */
export class ServerErrorPayload extends Error {
  override readonly name = 'ServerErrorPayload'
  /** `error.code`, vLLM's HTTP-like status. */
  readonly statusCode: number | undefined
  /** `error.type`, e.g. `BadRequestError`. */
  readonly errorType: string | undefined
  /** `error.param`. */
  readonly param: string | null | undefined

  constructor(message: string, details: { statusCode?: number; errorType?: string; param?: string | null }) {
    super(message)
    this.statusCode = details.statusCode
    this.errorType = details.errorType
    this.param = details.param
  }
}

/** Shortens a server payload for an error message. */
export function snippet(text: string, maximum = 200): string {
  return text.length <= maximum ? text : `${text.slice(0, maximum)}…`
}

/** What an error body says: the message, and vLLM's `code`, `type` and `param` when it sent them. */
export interface ErrorInfo {
  /** The server's own text. */
  message: string
  /** `error.code`, vLLM's HTTP-like status. */
  statusCode?: number
  /** `error.type`, e.g. `BadRequestError`. */
  errorType?: string
  /** `error.param`. */
  param?: string | null
}

/**
 * Reads vLLM's error info from an error payload: the nested `{"error": {…}}` form (≥ v0.10.1), the flat
 * `{"object": "error", …}` form (≤ v0.10.0), or the flat form wrapped in `error` (old mid-stream errors).
 * Returns `null` when the value holds no error.
 */
export function readErrorInfo(body: unknown): ErrorInfo | null {
  if (!isPlainObject(body)) return null
  let info: Record<string, unknown> | null = null
  if (isPlainObject(body.error)) info = body.error
  else if (body.object === 'error') info = body
  else if (typeof body.error === 'string') info = { message: body.error }
  if (info === null) return null
  const message = typeof info.message === 'string' ? info.message : JSON.stringify(info.message ?? info)
  const result: ErrorInfo = { message }
  if (typeof info.code === 'number' && Number.isInteger(info.code)) result.statusCode = info.code
  if (typeof info.type === 'string') result.errorType = info.type
  if (typeof info.param === 'string' || info.param === null) result.param = info.param
  return result
}

/**
 * Reads a FastAPI error body, `{"detail": "…"}`, or pydantic's `{"detail": [{"loc": [...], "msg": "…"}, …]}`:
 * the form of proxies in front of vLLM such as Agent Lightning's gateway. Returns `null` for anything else.
 */
export function readDetailInfo(body: unknown): ErrorInfo | null {
  if (!isPlainObject(body)) return null
  const detail = body.detail
  if (typeof detail === 'string') return { message: detail }
  if (!Array.isArray(detail) || detail.length === 0) return null
  const parts = detail.map((entry: unknown) => {
    if (!isPlainObject(entry) || typeof entry.msg !== 'string') return JSON.stringify(entry)
    const location = Array.isArray(entry.loc) ? entry.loc.join('.') : ''
    return location === '' ? entry.msg : `${location}: ${entry.msg}`
  })
  return { message: parts.join('; ') }
}
