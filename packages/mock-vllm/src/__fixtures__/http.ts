/** Test helpers: real HTTP requests to the mock server over loopback, and SSE framing checks. */

/** A finished HTTP exchange. */
export interface HttpResult {
  status: number
  headers: Headers
  text: string
}

/** POSTs JSON and reads the whole answer. */
export async function post(
  baseUrl: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  return { status: response.status, headers: response.headers, text: await response.text() }
}

/** GETs a path. */
export async function get(baseUrl: string, path: string): Promise<HttpResult> {
  const response = await fetch(`${baseUrl}${path}`)
  return { status: response.status, headers: response.headers, text: await response.text() }
}

/**
 * Splits an SSE body into its `data:` payloads, checking vLLM's framing on the way: every event is exactly
 * `data: <payload>\n\n`, no `event:` lines.
 */
export function ssePayloads(text: string): string[] {
  const events = text.split('\n\n')
  if (events[events.length - 1] !== '')
    throw new Error(`stream does not end with a blank line: ${JSON.stringify(text.slice(-40))}`)
  events.pop()
  return events.map((event) => {
    if (!event.startsWith('data: ') || event.includes('\n')) throw new Error(`bad SSE event: ${event}`)
    return event.slice('data: '.length)
  })
}

/** The test-side view of a streamed tool-call delta. */
export interface ToolCallDeltaView {
  id?: string
  type?: string
  index: number
  function: { name?: string; arguments?: string }
}

/** The test-side view of a chat or completions stream chunk (only what tests read). */
export interface ChunkView {
  id: string
  object: string
  created: number
  model: string
  choices: Array<{
    index: number
    delta?: {
      role?: string
      content?: string
      reasoning?: string
      reasoning_content?: string
      tool_calls?: ToolCallDeltaView[]
    }
    text?: string
    logprobs?: unknown
    finish_reason: string | null
    stop_reason?: number | string | null
    token_ids?: number[] | null
    prompt_token_ids?: number[] | null
  }>
  usage?: { prompt_tokens: number; total_tokens: number; completion_tokens: number } | null
  prompt_token_ids?: number[] | null
  prompt_text?: null
  system_fingerprint?: string
}

/** The JSON chunks of a stream that must end with `[DONE]`. */
export function sseChunks(text: string): ChunkView[] {
  const payloads = ssePayloads(text)
  if (payloads[payloads.length - 1] !== '[DONE]') throw new Error('stream does not end with data: [DONE]')
  return payloads.slice(0, -1).map((payload) => JSON.parse(payload) as ChunkView)
}

/** All completion ids of a chat stream, concatenated over every chunk that has them (the client rule). */
export function streamedIds(chunks: ChunkView[], choiceIndex = 0): number[] {
  const ids: number[] = []
  for (const chunk of chunks) {
    for (const choice of chunk.choices) {
      if (choice.index === choiceIndex && Array.isArray(choice.token_ids)) ids.push(...choice.token_ids)
    }
  }
  return ids
}

/** What arrived on a raw HTTP exchange, even one the server broke off. */
export interface RawExchange {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  /** Whether the connection ended with an error (reset) instead of a clean end. */
  broken: boolean
  /** Milliseconds from the request to each received piece of body. */
  arrivals: number[]
}

/** POSTs with node:http and records everything that arrives, tolerating a reset connection. */
export async function postRaw(
  baseUrl: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<RawExchange> {
  const { request } = await import('node:http')
  const started = performance.now()
  return new Promise((resolve) => {
    const exchange: RawExchange = { status: 0, headers: {}, text: '', broken: false, arrivals: [] }
    const outgoing = request(`${baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
    })
    outgoing.on('response', (response) => {
      exchange.status = response.statusCode ?? 0
      exchange.headers = response.headers
      response.setEncoding('utf8')
      response.on('data', (piece: string) => {
        exchange.text += piece
        exchange.arrivals.push(performance.now() - started)
      })
      response.on('end', () => resolve(exchange))
      response.on('error', () => {
        exchange.broken = true
        resolve(exchange)
      })
      response.on('aborted', () => {
        exchange.broken = true
      })
    })
    outgoing.on('error', () => {
      exchange.broken = true
      resolve(exchange)
    })
    outgoing.end(JSON.stringify(body))
  })
}
