import { type TokenRecord, type TokenStreamEvent, VLLMTitoError } from '@vllm-tito/spec'
import { CallAbort } from './call-abort'
import { EventBatch } from './event-batch'
import type { VLLMTokenStream } from './vllm-token-stream'

/**
 * Sends one non-streaming request and reads its body into records, pushing the body's events to `events`
 * (`null`: none are built). Rejects as `create()` does.
 */
export type BodyCall = (signal: AbortSignal, events: EventBatch | null) => Promise<TokenRecord[]>

/**
 * A non-streaming call handed out as a {@link VLLMTokenStream} (`createEvents()`): the request is sent on first
 * use (first `next()` or `final()`). Once the whole body is read, iteration yields the events a stream of the
 * same reply gives — one delta of each kind per choice — and `response-end`; `final()` resolves with the
 * records. Failures are those of `create()`; events read before a failure (a token-id policy that throws after
 * the body was read) are yielded first, as a stream yields the events of the chunks before it fails.
 * `abort()` or the caller's signal aborts a request in flight; once the body is read there is nothing to abort.
 */
export class BodyTokenStream implements VLLMTokenStream {
  readonly #call: BodyCall
  readonly #abort: CallAbort
  readonly #outcome: Promise<TokenRecord[]>
  #settle!: { resolve(records: TokenRecord[]): void; reject(error: unknown): void }
  #consumer: 'none' | 'iterator' | 'final' = 'none'

  constructor(call: BodyCall, signal: AbortSignal | undefined) {
    this.#call = call
    this.#abort = new CallAbort(signal)
    this.#outcome = new Promise<TokenRecord[]>((resolve, reject) => {
      this.#settle = { resolve, reject }
    })
    // the outcome is also delivered through iteration; a caller who only iterates must not see an
    // unhandled rejection from the copy kept for final()
    this.#outcome.catch(() => {})
  }

  /** Yields the call's events once the body is read; can be iterated once. */
  [Symbol.asyncIterator](): AsyncIterator<TokenStreamEvent> {
    if (this.#consumer !== 'none') {
      const consumer = this.#consumer === 'final' ? 'final()' : 'another iteration'
      const error = new VLLMTitoError(
        `this TokenStream is already consumed by ${consumer}; a stream can be read once`,
      )
      return { next: () => Promise.reject(error) }
    }
    this.#consumer = 'iterator'
    let pending: { events: TokenStreamEvent[]; failure: unknown } | null = null
    let position = 0
    return {
      next: async (): Promise<IteratorResult<TokenStreamEvent>> => {
        pending ??= await this.#read()
        if (position < pending.events.length) {
          position += 1
          return { done: false, value: pending.events[position - 1]! }
        }
        const { failure } = pending
        if (failure !== undefined) {
          pending.failure = undefined
          throw failure
        }
        return { done: true, value: undefined }
      },
      return: async (): Promise<IteratorResult<TokenStreamEvent>> => {
        // the body is read whole before the first event: stopping early leaves nothing open
        pending = { events: [], failure: undefined }
        return { done: true, value: undefined }
      },
    }
  }

  /** Resolves with one record per choice, sending the request if nobody iterates. */
  final(): Promise<TokenRecord[]> {
    if (this.#consumer === 'none') {
      this.#consumer = 'final'
      this.#call(this.#abort.signal, null).then(this.#settle.resolve, this.#settle.reject)
    }
    return this.#outcome
  }

  /** Aborts the request if it is still in flight; a pending iteration or `final()` then rejects. */
  abort(): void {
    this.#abort.abort(new DOMException('the stream was aborted', 'AbortError'))
  }

  /** Runs the call with an event batch: the events it pushed, then `response-end` or the failure. */
  async #read(): Promise<{ events: TokenStreamEvent[]; failure: unknown }> {
    const batch = new EventBatch()
    try {
      const records = await this.#call(this.#abort.signal, batch)
      this.#settle.resolve(records)
      return { events: [...batch.take(), { type: 'response-end', records }], failure: undefined }
    } catch (error) {
      this.#settle.reject(error)
      return { events: batch.take(), failure: error }
    }
  }
}
