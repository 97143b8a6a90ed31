import {
  extractTokenRecord,
  type RecordContext,
  type TokenRecord,
  type TokenRecordObserver,
  type TokenRecordSink,
} from '@vllm-tito/spec'
import { findMessageStopFields } from './message-stop-fields'
import { describeError, RecorderError, type RecorderErrorSource } from './recorder-error'
import { isPromiseLike, type StreamCallback } from './stream-callback'
import type { RecordedCall, TokenSpanWriter } from './token-span-writer'
import { findTokenRecordProblem } from './validate-token-record'

/** Options of {@link VLLMTokenRecorder}. Every field is optional. */
export interface VLLMTokenRecorderOptions<TEvent = unknown> {
  /**
   * Called with every event {@link VLLMTokenRecorder.handle} receives, after the event's record (if any) is
   * captured, so a throwing `inner` never loses a record (the seed's `inner` callback handler).
   */
  inner?: StreamCallback<TEvent>
  /**
   * Write one span per model call through {@link spanWriter} (the seed's `add_to_span`). Default `true`:
   * spans are written whenever a span writer is configured. `false` turns spans off even if one is.
   */
  addToSpan?: boolean
  /**
   * Writes the span of each call. The core recorder has none by default (it never imports OpenTelemetry):
   * pass `createOtelSpanWriter()` from `@vllm-tito/recorder/otel`. The Strands recorder
   * (`@vllm-tito/recorder/strands`) defaults to it, because the Strands SDK always installs OpenTelemetry.
   */
  spanWriter?: TokenSpanWriter
  /**
   * Where each record is also written, tagged with {@link rolloutId} and the call index (e.g. a
   * `JsonlFileSink` shared by many rollouts). Requires `rolloutId`. The recorder does not close it.
   */
  sink?: TokenRecordSink
  /** The rollout these records belong to, chosen by the user (e.g. Agent Lightning's `rollout_id`). */
  rolloutId?: string
  /** Told about every record after the sink, each isolated from the others. */
  observers?: readonly TokenRecordObserver[]
  /**
   * Receives each failure of the span writer, the sink or an observer, and each malformed record found in a
   * message-stop event. Such failures never interrupt recording. Default: a process warning. Every error is
   * also kept on {@link VLLMTokenRecorder.errors}.
   */
  onError?: (error: RecorderError) => void
}

/** Options of {@link VLLMTokenRecorder.reset}. */
export interface ResetOptions {
  /**
   * Start a new rollout under this id; the call index then restarts at 0. Without it the rollout id stays
   * and the call index keeps counting, so `(rolloutId, callIndex)` stays unique in a shared sink.
   */
  rolloutId?: string
}

/**
 * Captures the token record of every model call (the TypeScript `VLLMTokenRecorder` of `strands-vllm`):
 * `.promptTokenIds` and `.tokenIds` of the last call, `.history` of every call in order, `.reset()`.
 *
 * Feed it in any of three ways: `recorder.record(tokenRecord)` with client records (no Strands), as an
 * observer (`onRecord`), or with agent stream events through `recorder.handle(event)` /
 * `recorder.callback`. For `new Agent({ plugins: [recorder] })` use the subclass from
 * `@vllm-tito/recorder/strands`. State is per instance: use one recorder per rollout.
 *
 * @typeParam TEvent - the event type {@link handle} and `inner` take (`AgentStreamEvent` for Strands).
 */
export class VLLMTokenRecorder<TEvent = unknown> implements TokenRecordObserver {
  /** The chained callback (see {@link VLLMTokenRecorderOptions.inner}). */
  readonly inner: StreamCallback<TEvent> | undefined
  /** Whether spans are written (see {@link VLLMTokenRecorderOptions.addToSpan}). */
  readonly addToSpan: boolean
  /** The span writer in use, if any. */
  readonly spanWriter: TokenSpanWriter | undefined
  /** The sink records are also written to, if any. */
  readonly sink: TokenRecordSink | undefined
  /**
   * {@link handle} bound to this recorder, to pass where a callback is expected
   * (`composeCallbacks(printer, recorder.callback)`).
   */
  readonly callback: (event: TEvent) => void | Promise<void>

  readonly #observers: readonly TokenRecordObserver[]
  readonly #onError: ((error: RecorderError) => void) | undefined
  #rolloutId: string | undefined
  #history: TokenRecord[] = []
  #errors: RecorderError[] = []
  #callCount = 0
  // the same event or record object seen twice (recorder attached as plugin AND as stream callback, or fed by
  // both the client observer and the agent) is one model call, recorded once
  #handledEvents = new WeakSet<object>()
  #recordedRecords = new WeakSet<TokenRecord>()
  #pendingWrites = new Set<Promise<void>>()

  constructor(options: VLLMTokenRecorderOptions<TEvent> = {}) {
    if (options.inner !== undefined && typeof options.inner !== 'function') {
      throw new RecorderError('VLLMTokenRecorder: `inner` must be a function (event) => void', {
        source: 'options',
      })
    }
    if (
      options.rolloutId !== undefined &&
      (typeof options.rolloutId !== 'string' || options.rolloutId === '')
    ) {
      throw new RecorderError('VLLMTokenRecorder: `rolloutId` must be a non-empty string', {
        source: 'options',
      })
    }
    if (options.sink !== undefined && options.rolloutId === undefined) {
      throw new RecorderError(
        'VLLMTokenRecorder: a `sink` needs a `rolloutId`, which tags every record so rollouts sharing the sink can be told apart',
        { source: 'options' },
      )
    }
    if (options.spanWriter !== undefined && typeof options.spanWriter.writeSpan !== 'function') {
      throw new RecorderError('VLLMTokenRecorder: `spanWriter` must have a writeSpan(record, call) method', {
        source: 'options',
      })
    }
    this.inner = options.inner
    this.addToSpan = options.addToSpan ?? true
    this.spanWriter = options.spanWriter
    this.sink = options.sink
    this.#rolloutId = options.rolloutId
    this.#observers = [...(options.observers ?? [])]
    this.#onError = options.onError
    this.callback = (event) => this.handle(event)
  }

  /** The rollout id records are tagged with, if one was given. */
  get rolloutId(): string | undefined {
    return this.#rolloutId
  }

  /** Every recorded call in order (not copied: treat it and its records as read-only). */
  get history(): readonly TokenRecord[] {
    return this.#history
  }

  /** The last recorded call, or `undefined` before the first one. */
  get lastRecord(): TokenRecord | undefined {
    return this.#history.at(-1)
  }

  /**
   * Prompt token ids of the last call; `null` before the first call or when that call had none. Unlike the
   * seed, a call without ids never leaves the previous call's ids here.
   */
  get promptTokenIds(): number[] | null {
    return this.lastRecord?.promptTokenIds ?? null
  }

  /** Completion token ids of the last call (including the final EOS); `null` as for {@link promptTokenIds}. */
  get tokenIds(): number[] | null {
    return this.lastRecord?.tokenIds ?? null
  }

  /** Every side-effect failure reported since the last {@link reset}, oldest first. */
  get errors(): readonly RecorderError[] {
    return this.#errors
  }

  /**
   * Records one model call. Stores it in the history first, then writes the span, the sink entry and tells
   * the observers; their failures are reported (see {@link VLLMTokenRecorderOptions.onError}), never thrown.
   *
   * @returns `true` when recorded, `false` when this very record object was already recorded.
   * @throws RecorderError (source `record`) when `record` is not a valid `TokenRecord`.
   */
  record(record: TokenRecord, context: RecordContext = {}): boolean {
    const problem = findTokenRecordProblem(record)
    if (problem !== undefined) {
      throw new RecorderError(`VLLMTokenRecorder.record: invalid token record: ${problem}`, {
        source: 'record',
      })
    }
    return this.#store(record, context)
  }

  /** {@link TokenRecordObserver} entry point, so a client can feed the recorder directly; same as {@link record}. */
  onRecord(record: TokenRecord, context: RecordContext): void {
    this.record(record, context)
  }

  /**
   * Takes one agent stream event: records the token record of a message-stop event (at message-stop time, so
   * `MaxTokensError` and later failures cannot lose it), then calls `inner`. An event object already handled
   * is ignored, so attaching the recorder both as plugin and as stream callback is harmless.
   *
   * @returns a promise when `inner` returned one or a sink write is still pending; it resolves once both are
   * done and rejects only with `inner`'s error. Errors `inner` throws synchronously propagate as they are.
   */
  handle(event: TEvent): void | Promise<void> {
    if (typeof event === 'object' && event !== null) {
      if (this.#handledEvents.has(event)) return
      this.#handledEvents.add(event)
    }
    const stop = findMessageStopFields(event)
    if (stop !== undefined) this.#recordFromFields(stop.fields, stop.agentId)
    const pending = this.#pendingWrites.size > 0 ? this.settled() : undefined
    const innerResult = this.inner === undefined ? undefined : this.inner(event)
    if (isPromiseLike(innerResult)) {
      return Promise.all([innerResult, pending]).then(() => undefined)
    }
    return pending
  }

  /** Resolves once every sink write started so far has settled. Never rejects (failures are reported). */
  async settled(): Promise<void> {
    // allSettled: a throwing `onError` inside a failed write must not turn into a rejection here
    while (this.#pendingWrites.size > 0) await Promise.allSettled(this.#pendingWrites)
  }

  /** Waits for pending sink writes, then flushes the sink. A failing flush is reported, not thrown. */
  async flush(): Promise<void> {
    await this.settled()
    if (this.sink === undefined) return
    try {
      await this.sink.flush()
    } catch (error) {
      this.#report('sink', `sink flush failed: ${describeError(error)}`, error)
    }
  }

  /**
   * Forgets the history, the last ids and the reported errors (seed parity). Pending sink writes go on.
   * See {@link ResetOptions} for starting a new rollout id.
   */
  reset(options: ResetOptions = {}): void {
    if (options.rolloutId !== undefined) {
      if (typeof options.rolloutId !== 'string' || options.rolloutId === '') {
        throw new RecorderError('VLLMTokenRecorder.reset: `rolloutId` must be a non-empty string', {
          source: 'options',
        })
      }
      this.#rolloutId = options.rolloutId
      this.#callCount = 0
    }
    this.#history = []
    this.#errors = []
    this.#recordedRecords = new WeakSet()
  }

  #recordFromFields(fields: unknown, agentId: string | undefined): void {
    const record = extractTokenRecord(fields)
    const context: RecordContext = agentId === undefined ? {} : { agentId }
    if (record !== undefined) {
      const problem = findTokenRecordProblem(record)
      if (problem === undefined) {
        this.#store(record, context)
        return
      }
      this.#report('record', `message-stop event carries an invalid token record: ${problem}`)
      return
    }
    // a provider that is not vLLM sends no record: nothing to do. A `token_record` that fails the shape check
    // is a provider bug worth reporting rather than silently missing a call.
    if (typeof fields === 'object' && fields !== null && 'token_record' in fields) {
      const problem = findTokenRecordProblem((fields as { token_record: unknown }).token_record)
      this.#report(
        'record',
        `message-stop event carries an invalid token record: ${problem ?? 'unknown shape'}`,
      )
    }
  }

  #store(record: TokenRecord, context: RecordContext): boolean {
    if (this.#recordedRecords.has(record)) return false
    this.#recordedRecords.add(record)
    this.#history.push(record)
    const callIndex = this.#callCount
    this.#callCount += 1
    const call: RecordedCall =
      this.#rolloutId === undefined
        ? { ...context, callIndex }
        : { ...context, rolloutId: this.#rolloutId, callIndex }
    if (this.addToSpan && this.spanWriter !== undefined) this.#writeSpan(this.spanWriter, record, call)
    if (this.sink !== undefined && this.#rolloutId !== undefined) {
      this.#writeSink(this.sink, { rolloutId: this.#rolloutId, callIndex, record })
    }
    for (const observer of this.#observers) {
      try {
        observer.onRecord(record, call)
      } catch (error) {
        this.#report('observer', `observer failed on call ${callIndex}: ${describeError(error)}`, error)
      }
    }
    return true
  }

  #writeSpan(writer: TokenSpanWriter, record: TokenRecord, call: RecordedCall): void {
    try {
      writer.writeSpan(record, call)
    } catch (error) {
      this.#report('span', `span writer failed on call ${call.callIndex}: ${describeError(error)}`, error)
    }
  }

  #writeSink(sink: TokenRecordSink, entry: Parameters<TokenRecordSink['write']>[0]): void {
    const fail = (error: unknown) =>
      this.#report('sink', `sink write failed on call ${entry.callIndex}: ${describeError(error)}`, error)
    let result: void | Promise<void>
    try {
      result = sink.write(entry)
    } catch (error) {
      fail(error)
      return
    }
    if (!isPromiseLike(result)) return
    const pending: Promise<void> = Promise.resolve(result).then(
      () => {
        this.#pendingWrites.delete(pending)
      },
      (error: unknown) => {
        this.#pendingWrites.delete(pending)
        fail(error)
      },
    )
    this.#pendingWrites.add(pending)
  }

  #report(source: RecorderErrorSource, message: string, cause?: unknown): void {
    const error = new RecorderError(`VLLMTokenRecorder: ${message}`, { source, cause })
    this.#errors.push(error)
    if (this.#onError !== undefined) {
      this.#onError(error)
      return
    }
    // no handler: make the failure visible without breaking the agent run that is recording
    globalThis.process?.emitWarning?.(error)
  }
}
