import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ValidationIssue } from './pydantic-validation'

/** An `HTTPException` of the gateway: answered as `{"detail": detail}` with the status and headers. */
export class HttpError extends Error {
  readonly status: number
  readonly detail: unknown
  readonly headers: Record<string, string>

  constructor(status: number, detail: unknown, headers: Record<string, string> = {}) {
    super(typeof detail === 'string' ? detail : JSON.stringify(detail))
    this.status = status
    this.detail = detail
    this.headers = headers
  }
}

/** FastAPI's `RequestValidationError`: 422 with pydantic's issue list. */
export class RequestValidationError extends HttpError {
  constructor(issues: ValidationIssue[]) {
    super(422, issues)
  }
}

/**
 * An exception the real gateway does not catch (a `TypeError` in a handler, a pydantic error raised inside
 * one): Starlette answers a plain-text 500 `Internal Server Error`.
 */
export class UnhandledServerError extends Error {}

/** Sends a JSON body the way Starlette's `JSONResponse` renders it (compact, UTF-8). */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body)
  response.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  })
  response.end(text)
}

/** Sends an {@link HttpError} as FastAPI's exception handler does. */
export function sendHttpError(response: ServerResponse, error: HttpError): void {
  sendJson(response, error.status, { detail: error.detail }, error.headers)
}

/** Starlette's answer to an unhandled exception. */
export function sendInternalServerError(response: ServerResponse): void {
  const text = 'Internal Server Error'
  response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8', 'content-length': text.length })
  response.end(text)
}

/** A status-only answer (204). */
export function sendEmpty(response: ServerResponse, status: number): void {
  response.writeHead(status)
  response.end()
}

/** Reads the whole request body. */
export async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/** How FastAPI hands a route with a body model its body. */
export type ParsedBody = { kind: 'absent' } | { kind: 'value'; value: unknown }

/**
 * Parses a request body for a route with a pydantic body parameter, as FastAPI does: no body is "absent";
 * a JSON content type (or none) is parsed, and a parse error is a 422 `json_invalid` raised before any
 * dependency (the API key check included) runs; any other content type hands the raw text to validation.
 */
export function parseModelBody(raw: Buffer, contentType: string | undefined): ParsedBody {
  if (raw.length === 0) return { kind: 'absent' }
  const text = raw.toString('utf8')
  const mediaType = (contentType ?? '').split(';')[0]!.trim().toLowerCase()
  const isJson =
    mediaType === '' || mediaType === 'application/json' || /^application\/.+\+json$/.test(mediaType)
  if (!isJson) return { kind: 'value', value: text }
  try {
    return { kind: 'value', value: JSON.parse(text) }
  } catch (error) {
    const message = (error as Error).message
    const position = Number(/position (\d+)/.exec(message)?.[1] ?? 0)
    throw new RequestValidationError([
      {
        type: 'json_invalid',
        loc: ['body', position],
        msg: 'JSON decode error',
        input: {},
        ctx: { error: message },
      },
    ])
  }
}

/** Python's truthiness of a JSON value (`if body.get("stream")`). */
export function pythonTruthy(value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === 0 || value === '') return false
  if (Array.isArray(value)) return value.length > 0
  if (typeof value === 'object') return Object.keys(value).length > 0
  return true
}

/**
 * Percent-decodes a request path the way uvicorn builds `scope["path"]` (`urllib.parse.unquote`): valid
 * `%XX` runs become UTF-8 text (invalid bytes become U+FFFD), anything else stays as it is.
 */
export function unquotePath(raw: string): string {
  return raw.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    const bytes = Buffer.from(run.replaceAll('%', ''), 'hex')
    return new TextDecoder('utf-8', { fatal: false }).decode(bytes)
  })
}
