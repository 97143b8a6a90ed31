import { readFileSync } from 'node:fs'

/** Reads a golden fixture's bytes. */
export function fixtureBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(`./${name}`, import.meta.url)))
}

/** A small deterministic PRNG (mulberry32), so a failing re-chunking can be replayed by its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let value = state
    value = Math.imul(value ^ (value >>> 15), value | 1)
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61)
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Splits bytes into random pieces of 1–`maxPiece` bytes. Every split inside a multi-byte UTF-8 character is
 * kept (continuation bytes are `10xxxxxx`), and when `forceInsideCharacter` is set at least one such split
 * is added if the bytes hold a multi-byte character.
 */
export function splitRandomly(
  bytes: Uint8Array,
  seed: number,
  maxPiece = 24,
  forceInsideCharacter = true,
): Uint8Array[] {
  const random = seededRandom(seed)
  const cuts = new Set<number>()
  let position = 0
  while (position < bytes.length) {
    position += 1 + Math.floor(random() * maxPiece)
    if (position < bytes.length) cuts.add(position)
  }
  if (forceInsideCharacter) {
    const inside: number[] = []
    for (let index = 1; index < bytes.length; index += 1) {
      if ((bytes[index]! & 0xc0) === 0x80) inside.push(index)
    }
    if (inside.length > 0) cuts.add(inside[Math.floor(random() * inside.length)]!)
  }
  const sorted = [...cuts].sort((left, right) => left - right)
  const pieces: Uint8Array[] = []
  let start = 0
  for (const cut of sorted) {
    pieces.push(bytes.slice(start, cut))
    start = cut
  }
  pieces.push(bytes.slice(start))
  return pieces
}

/** `true` when some piece boundary falls inside a multi-byte UTF-8 character. */
export function splitsInsideCharacter(pieces: Uint8Array[]): boolean {
  return pieces.slice(1).some((piece) => piece.length > 0 && (piece[0]! & 0xc0) === 0x80)
}

/** One request the replay fetch received. */
export interface ReplayedRequest {
  url: string
  method: string
  headers: Headers
  body: unknown
  signal: AbortSignal | null
}

/** A scripted answer of the replay fetch. */
export interface ReplayAnswer {
  status?: number
  headers?: Record<string, string>
  /** Body pieces, delivered one per read. */
  pieces?: Uint8Array[]
  /** Text body (for JSON and error bodies). */
  text?: string
  /** Throw this from fetch itself (a connection error). */
  connectionError?: Error
  /** After the pieces, fail the body with this error instead of ending it (a dropped connection). */
  failAfterPieces?: Error
  /** Never end the body after the pieces (a stalled server). */
  stallAfterPieces?: boolean
}

/**
 * A `fetch` that answers from a script, one answer per call (the last repeats), recording every request.
 * Bodies honour the request's abort signal, like a real connection.
 */
export function replayFetch(answers: ReplayAnswer[]): {
  fetch: typeof globalThis.fetch
  requests: ReplayedRequest[]
} {
  const requests: ReplayedRequest[] = []
  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const answer = answers[Math.min(requests.length, answers.length - 1)]!
    const body = typeof init?.body === 'string' ? JSON.parse(init.body) : null
    const signal = init?.signal ?? null
    requests.push({
      url: String(input instanceof Request ? input.url : input),
      method: init?.method ?? 'GET',
      headers: new Headers(init?.headers),
      body,
      signal,
    })
    if (signal?.aborted) throw signal.reason
    if (answer.connectionError) throw answer.connectionError
    const status = answer.status ?? 200
    if (answer.text !== undefined) {
      return new Response(answer.text, { status, headers: answer.headers })
    }
    const pieces = answer.pieces ?? []
    let index = 0
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        signal?.addEventListener('abort', () => {
          try {
            controller.error(signal.reason)
          } catch {
            // already closed
          }
        })
      },
      pull(controller) {
        if (index < pieces.length) {
          controller.enqueue(pieces[index]!)
          index += 1
          return
        }
        if (answer.failAfterPieces) controller.error(answer.failAfterPieces)
        else if (answer.stallAfterPieces) return new Promise(() => {})
        else controller.close()
      },
    })
    return new Response(stream, {
      status,
      headers: { 'content-type': 'text/event-stream; charset=utf-8', ...answer.headers },
    })
  }
  return { fetch: fetch as typeof globalThis.fetch, requests }
}
