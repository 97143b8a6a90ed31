import type { TokenStreamEvent } from '@vllm-tito/spec'

/**
 * The events produced since the stream last took them. The stream owns it and hands it to the response state,
 * which pushes the events of every chunk it reads; after each body read the stream takes the batch and yields
 * it. Where nobody iterates (`final()`, `create()`), no batch exists and no event object is built.
 */
export class EventBatch {
  #events: TokenStreamEvent[] = []

  /** Adds one event at the end. */
  push(event: TokenStreamEvent): void {
    this.#events.push(event)
  }

  /** How many events wait to be taken. */
  get size(): number {
    return this.#events.length
  }

  /** The waiting events, oldest first; the batch starts empty again. */
  take(): TokenStreamEvent[] {
    const events = this.#events
    this.#events = []
    return events
  }
}
