import type { TaggedTokenRecord, TokenRecord, TokenRecordSink } from '@vllm-tito/spec'
import { RecorderError } from './recorder-error'

/**
 * A {@link TokenRecordSink} that keeps every entry in memory, in arrival order. Share one between recorders
 * of concurrent rollouts and read each rollout back with {@link MemorySink.recordsOf}.
 */
export class MemorySink implements TokenRecordSink {
  readonly #entries: TaggedTokenRecord[] = []
  #closed = false

  /** Every entry written, in arrival order (not copied: treat as read-only). */
  get entries(): readonly TaggedTokenRecord[] {
    return this.#entries
  }

  /** Stores one entry. @throws RecorderError (source `sink`) after {@link close}. */
  write(entry: TaggedTokenRecord): void {
    if (this.#closed) {
      throw new RecorderError(`MemorySink: write after close (rollout ${entry.rolloutId})`, {
        source: 'sink',
      })
    }
    this.#entries.push(entry)
  }

  /** Nothing to flush: entries are stored when written. */
  async flush(): Promise<void> {}

  /** Refuses later writes; the entries stay readable. */
  async close(): Promise<void> {
    this.#closed = true
  }

  /** The records of one rollout, ordered by call index. */
  recordsOf(rolloutId: string): TokenRecord[] {
    return this.#entries
      .filter((entry) => entry.rolloutId === rolloutId)
      .sort((left, right) => left.callIndex - right.callIndex)
      .map((entry) => entry.record)
  }

  /** The distinct rollout ids, in order of first appearance. */
  rolloutIds(): string[] {
    return [...new Set(this.#entries.map((entry) => entry.rolloutId))]
  }
}
