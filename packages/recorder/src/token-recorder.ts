import {
  type ClientCallObserver,
  extractTokenRecord,
  type RecordContext,
  type TokenRecord,
  type TokenRecordObserver,
  type TokenRecordSink,
} from '@vllm-tito/spec'
import type { MessageStopExtractor } from './message-stop-fields'
import { describeError, RecorderError, type RecorderErrorSource } from './recorder-error'
import { isPromiseLike, type StreamCallback } from './stream-callback'
import { readRecorderOptions, readResetRolloutId, type TokenRecorderOptions } from './token-recorder-options'
import type { RecordedCall, TokenSpanWriter } from './token-span-writer'
import { findTokenRecordProblem } from './validate-token-record'

/** Options of {@link TokenRecorder.reset}. */
export interface ResetOptions {
  /**
   * Start a new rollout under this id; the call index then restarts at 0. Without it the rollout id stays
   * and the call index keeps counting, so `(rolloutId, callIndex)` stays unique in a shared sink.
   */
  rolloutId?: string
}

/**
 * Captures the token record of every model call, with no framework attached: `.promptTokenIds` and
 * `.tokenIds` of the last call, `.history` of every call in order, `.reset()` (what `strands-vllm`'s
 * `VLLMTokenRecorder` keeps).
 *
 * Feed it in any of three ways: `recorder.record(tokenRecord)` with client records, as an observer (a
 * client's `observer`, through `onRecords`; another recorder's `observers`, through `onRecord`), or with a
 * framework's events through `recorder.handle(event)` / `recorder.callback`, given an `extractMessageStop`
 * that finds the record in them. For Strands agents use `VLLMTokenRecorder` from
 * `@vllm-tito/recorder/strands`: this recorder with the Strands extractor, as a plugin. State is per
 * instance: use one recorder per rollout.
 *
 * @typeParam TEvent - the event type {@link handle} and `inner` take (`AgentStreamEvent` for Strands).
 * @throws InvalidOptionError (from `@vllm-tito/spec`) naming the option, for a bad or misspelt option.
 */
export class TokenRecorder<TEvent = unknown> implements TokenRecordObserver, ClientCallObserver {
  /** Finds the record in the events given to {@link handle} (see {@link TokenRecorderOptions.extractMessageStop}). */
  readonly extractMessageStop: MessageStopExtractor<TEvent> | undefined
  /** The chained callback (see {@link TokenRecorderOptions.inner}). */
  readonly inner: StreamCallback<TEvent> | undefined
  /** Whether spans are written (see {@link TokenRecorderOptions.addToSpan}). */
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

  constructor(options: TokenRecorderOptions<TEvent> = {}) {
    // `new.target`: a subclass (the Strands recorder) is named in its own errors
    const settings = readRecorderOptions(`new ${new.target.name}`, options)
    this.extractMessageStop = settings.extractMessageStop
    this.inner = settings.inner
    this.addToSpan = settings.addToSpan
    this.spanWriter = settings.spanWriter
    this.sink = settings.sink
    this.#rolloutId = settings.rolloutId
    this.#observers = settings.observers
    this.#onError = settings.onError
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
   * Prompt token ids of the last call; `null` before the first call or when that call had none. Unlike
   * `strands-vllm`, a call without ids never leaves the previous call's ids here.
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
   * the observers; their failures are reported (see {@link TokenRecorderOptions.onError}), never thrown.
   *
   * @returns `true` when recorded, `false` when this very record object was already recorded.
   * @throws RecorderError (source `record`) when `record` is not a valid `TokenRecord`.
   */
  record(record: TokenRecord, context: RecordContext = {}): boolean {
    const problem = findTokenRecordProblem(record)
    if (problem !== undefined) {
      throw new RecorderError(`${this.constructor.name}.record: invalid token record: ${problem}`, {
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
   * {@link ClientCallObserver} entry point: `new VLLMClient({ baseUrl, observer: recorder })` records every
   * call's records (one per choice), in order. A record that fails the shape check is reported (source
   * `record`, see {@link TokenRecorderOptions.onError}) rather than thrown, since the client ignores what its
   * observers throw.
   */
  onRecords(records: TokenRecord[]): void {
    for (const record of records) {
      const problem = findTokenRecordProblem(record)
      if (problem === undefined) this.#store(record, {})
      else this.#report('record', `client observer got an invalid token record: ${problem}`)
    }
  }

  /**
   * Takes one event: records the token record {@link extractMessageStop} finds in it (at message-stop time, so
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
    const stop = this.extractMessageStop?.(event)
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
   * Forgets the history, the last ids and the reported errors (as `strands-vllm` does). Pending sink writes
   * go on. See {@link ResetOptions} for starting a new rollout id.
   */
  reset(options: ResetOptions = {}): void {
    const rolloutId = readResetRolloutId(`${this.constructor.name}.reset`, options)
    if (rolloutId !== undefined) {
      this.#rolloutId = rolloutId
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
    const error = new RecorderError(`${this.constructor.name}: ${message}`, { source, cause })
    this.#errors.push(error)
    if (this.#onError !== undefined) {
      this.#onError(error)
      return
    }
    // no handler: make the failure visible without breaking the agent run that is recording
    globalThis.process?.emitWarning?.(error)
  }
}
