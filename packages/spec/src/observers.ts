import type { TaggedTokenRecord, TokenRecord } from './token-record'

/** Where a record came from, passed to observers alongside it. */
export interface RecordContext {
  /** Rollout id, when the user gave one (shared sinks tag records with it). */
  rolloutId?: string
  /** Strands agent id, when the record came through an agent. */
  agentId?: string
}

/** Receives every finished model call's record. Implementations must not throw; callers isolate them anyway. */
export interface TokenRecordObserver {
  /** Called once per record, when the call ends (or fails with a partial record). */
  onRecord(record: TokenRecord, context: RecordContext): void
}

/** A {@link TokenRecordObserver} that does nothing, so callers never need a null check. */
export const noopTokenRecordObserver: TokenRecordObserver = Object.freeze({ onRecord() {} })

/** Information about one attempt of an HTTP call. */
export interface CallAttemptInfo {
  /** Endpoint path, e.g. `/v1/chat/completions`. */
  path: string
  /** 1 for the first attempt, 2 for the first retry, … */
  attempt: number
}

/**
 * Lifecycle callbacks of a client call, for metrics and logs. Never receives the API key. Every method is
 * optional: implement the ones you need (`{ onRecords: (records) => … }`); a `TokenRecorder` is one, through
 * its `onRecords`. Callbacks must not throw; the client ignores a callback that does.
 */
export interface ClientCallObserver {
  /** An attempt is about to be sent. */
  onAttempt?(info: CallAttemptInfo): void
  /** An attempt failed before any response byte and will be retried after `delayMs` milliseconds. */
  onRetry?(info: CallAttemptInfo & { delayMs: number; error: Error }): void
  /** A call ended with records (one per choice). */
  onRecords?(records: TokenRecord[]): void
  /** A call ended with an error (after retries). */
  onError?(error: Error): void
}

/** A {@link ClientCallObserver} that does nothing, with every method present. */
export const noopClientCallObserver: Required<ClientCallObserver> = Object.freeze({
  onAttempt() {},
  onRetry() {},
  onRecords() {},
  onError() {},
})

/** A destination for tagged records (memory, a JSONL file, a queue). */
export interface TokenRecordSink {
  /** Stores one record; resolves once it is durable for this sink (e.g. flushed to the file). */
  write(entry: TaggedTokenRecord): void | Promise<void>
  /** Resolves when every earlier write is durable. */
  flush(): Promise<void>
  /** Flushes and releases resources; later writes reject. */
  close(): Promise<void>
}

/** A {@link TokenRecordSink} that drops everything. */
export const noopTokenRecordSink: TokenRecordSink = Object.freeze({
  write() {},
  async flush() {},
  async close() {},
})

/**
 * The tokenizer operations drift checks need. mock-vllm's real Qwen3 tokenizer satisfies it, and so does
 * any wrapper around a Hugging Face tokenizer.
 */
export interface TextTokenizer {
  /** Encodes text to ids without adding special tokens. */
  encode(text: string): number[]
  /** Decodes ids to text, keeping special tokens. */
  decode(ids: readonly number[]): string
}
