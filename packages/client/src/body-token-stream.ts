import type { TokenRecord, TokenStreamEvent } from '@vllm-tito/spec'
import { CallAbort } from './call-abort'
import { EventBatch } from './event-batch'
import { SingleConsumer } from './single-consumer'
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
  readonly #consumer = new SingleConsumer()

  constructor(call: BodyCall, signal: AbortSignal | undefined) {
    this.#call = call
    this.#abort = new CallAbort(signal)
  }

  /** Yields the call's events once the body is read; can be iterated once. */
  [Symbol.asyncIterator](): AsyncIterator<TokenStreamEvent> {
    const claimed = this.#consumer.claim('iterator')
    if (claimed !== true) return { next: () => Promise.reject(claimed) }
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
    if (this.#consumer.claim('final') === true)
      this.#call(this.#abort.signal, null).then(
        (records) => this.#consumer.resolve(records),
        (error: unknown) => this.#consumer.reject(error),
      )
    return this.#consumer.outcome
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
      this.#consumer.resolve(records)
      return { events: [...batch.take(), { type: 'response-end', records }], failure: undefined }
    } catch (error) {
      this.#consumer.reject(error)
      return { events: batch.take(), failure: error }
    }
  }
}
