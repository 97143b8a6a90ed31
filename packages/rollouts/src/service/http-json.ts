import type { IncomingMessage, ServerResponse } from 'node:http'

/** The `error` object of every non-2xx body of the rollout service. */
export interface ServiceErrorBody {
  /** `invalid_request`, `saturated`, `draining`, `not_found`, `method_not_allowed`, `too_large`, `trainer_rule`, `internal`. */
  type: string
  /** What is wrong, in a sentence. */
  message: string
  /** The JSON path of the bad request field (`group_size`, `tasks[0].question`), for `invalid_request`. */
  field?: string
  /** The trainer rule a batch broke (`single-sequence`, `row-required`, …), for `trainer_rule`. */
  rule?: string
  /** Seconds to wait before retrying, for `saturated` and `draining` (also in the `Retry-After` header). */
  retry_after_seconds?: number
}

/** A request body that cannot be read: too large, or not JSON. */
export class BodyError extends Error {
  override readonly name = 'BodyError'
  /** The HTTP status to answer with: 413 for a body over the limit, 400 for one that is not JSON. */
  readonly status: 400 | 413

  constructor(status: 400 | 413, message: string) {
    super(message)
    this.status = status
  }
}

/** Reads and parses a JSON body of at most `maxBytes`. */
export async function readJsonBody(request: IncomingMessage, maxBytes: number): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > maxBytes) throw new BodyError(413, `the request body is larger than ${maxBytes} bytes`)
    chunks.push(chunk)
  }
  const text = Buffer.concat(chunks).toString('utf8')
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new BodyError(400, `the request body is not valid JSON (${(error as Error).message})`)
  }
}

/** Sends `body` as JSON with `status` (and extra headers); nothing when the client is already gone. */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (response.destroyed || response.writableEnded) return
  const text = JSON.stringify(body)
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  })
  response.end(text)
}

/** Sends `{ "error": … }` with `status`; saturated and draining answers carry `Retry-After`. */
export function sendError(response: ServerResponse, status: number, error: ServiceErrorBody): void {
  const headers: Record<string, string> = {}
  if (error.retry_after_seconds !== undefined) headers['retry-after'] = String(error.retry_after_seconds)
  sendJson(response, status, { error }, headers)
}
