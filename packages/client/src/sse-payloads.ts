import { SseDecoder } from './sse-decoder'

/** How an SSE body ended. */
export interface SseEnd {
  /** `data: [DONE]` arrived (anything after it is ignored). */
  sawDone: boolean
  /** An unterminated last line dropped at the end of the body, `''` when there was none. */
  unterminated: string
}

const DONE = '[DONE]'

/**
 * Reads an SSE body: one loop over the body reads, with the decoder flushed once when the body ends. Yields
 * the payloads of each read that completed any (the array is reused: use it before asking for the next), and
 * stops at `data: [DONE]`. `onRead` is called after every read (the stream's idle deadline).
 */
export async function* readSsePayloads(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  onRead: () => void,
): AsyncGenerator<string[], SseEnd, undefined> {
  const decoder = new SseDecoder()
  const payloads: string[] = []
  for (;;) {
    const { done, value } = await reader.read()
    onRead()
    const unterminated = done ? decoder.end(payloads).unterminated : ''
    if (!done) decoder.push(value, payloads)
    const doneAt = payloads.indexOf(DONE)
    if (doneAt !== -1) payloads.length = doneAt
    if (payloads.length > 0) {
      yield payloads
      payloads.length = 0
    }
    if (doneAt !== -1) return { sawDone: true, unterminated: '' }
    if (done) return { sawDone: false, unterminated }
  }
}
