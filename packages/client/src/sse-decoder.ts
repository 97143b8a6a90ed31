/**
 * A minimal, allocation-light Server-Sent Events decoder for vLLM streams.
 *
 * vLLM frames every event as `data: <json>\n\n` with no `event:` or `id:` lines, but the decoder follows the
 * SSE rules that matter for correctness: `\n` and `\r\n` line ends, several `data:` lines joined with `\n`,
 * comment lines (`:`) and other fields ignored, and bytes split anywhere (including inside a multi-byte
 * UTF-8 character, which the streaming `TextDecoder` reassembles).
 */
export class SseDecoder {
  readonly #decoder = new TextDecoder('utf-8')
  /** Text after the last line end, waiting for more bytes. */
  #buffer = ''
  /** `data:` payload of the event being read, or `null` when no `data:` line arrived yet. */
  #pendingData: string | null = null

  /**
   * Decodes one piece of the body and appends the payload of every completed event to `payloads`.
   * Returns the number of payloads appended.
   */
  push(bytes: Uint8Array, payloads: string[]): number {
    const text = this.#buffer + this.#decoder.decode(bytes, { stream: true })
    return this.#consumeLines(text, payloads)
  }

  /**
   * Flushes the decoder at the end of the body. A `data:` line that was complete (ended by a line end) but
   * never followed by the blank line that closes its event is still delivered; an unterminated last line is
   * returned as `unterminated` so the caller can report it rather than parse half a JSON object.
   */
  end(payloads: string[]): { unterminated: string } {
    const text = this.#buffer + this.#decoder.decode()
    this.#consumeLines(text, payloads)
    const unterminated = this.#buffer
    this.#buffer = ''
    if (this.#pendingData !== null) {
      payloads.push(this.#pendingData)
      this.#pendingData = null
    }
    return { unterminated }
  }

  #consumeLines(text: string, payloads: string[]): number {
    let appended = 0
    let lineStart = 0
    let lineEnd = text.indexOf('\n', lineStart)
    while (lineEnd !== -1) {
      // a `\r\n` line end leaves a trailing `\r` on the line
      const contentEnd = lineEnd > lineStart && text.charCodeAt(lineEnd - 1) === 13 ? lineEnd - 1 : lineEnd
      if (contentEnd === lineStart) {
        if (this.#pendingData !== null) {
          payloads.push(this.#pendingData)
          this.#pendingData = null
          appended += 1
        }
      } else if (text.startsWith('data:', lineStart)) {
        // one optional space after the colon belongs to the framing, not the value
        const valueStart = text.charCodeAt(lineStart + 5) === 32 ? lineStart + 6 : lineStart + 5
        const value = text.slice(valueStart, contentEnd)
        this.#pendingData = this.#pendingData === null ? value : `${this.#pendingData}\n${value}`
      }
      // comment lines (`:`) and other fields (`event:`, `id:`, `retry:`) carry nothing vLLM uses
      lineStart = lineEnd + 1
      lineEnd = text.indexOf('\n', lineStart)
    }
    this.#buffer = lineStart === 0 ? text : text.slice(lineStart)
    return appended
  }
}
