import { OptionReader, type TokenRecordObserver, type TokenRecordSink } from '@vllm-tito/spec'
import type { MessageStopExtractor } from './message-stop-fields'
import type { RecorderError } from './recorder-error'
import type { StreamCallback } from './stream-callback'
import type { TokenSpanWriter } from './token-span-writer'

/** Options of `TokenRecorder`. Every field is optional. */
export interface TokenRecorderOptions<TEvent = unknown> {
  /**
   * Finds the token record's fields in the events {@link TokenRecorder.handle} receives. Without one,
   * `handle` records nothing and only forwards to `inner`. For Strands events use
   * `extractStrandsMessageStop` from `@vllm-tito/recorder/strands` (or its `VLLMTokenRecorder`, which sets it).
   */
  extractMessageStop?: MessageStopExtractor<TEvent>
  /**
   * Called with every event `handle` receives, after the event's record (if any) is captured, so a throwing
   * `inner` never loses a record (`strands-vllm`'s `inner` callback handler).
   */
  inner?: StreamCallback<TEvent>
  /**
   * Write one span per model call through {@link spanWriter} (`strands-vllm`'s `add_to_span`). Default `true`:
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
   * also kept on `recorder.errors`.
   */
  onError?: (error: RecorderError) => void
}

/** The names of {@link TokenRecorderOptions}, in declaration order. */
export const TOKEN_RECORDER_OPTION_NAMES: readonly string[] = [
  'extractMessageStop',
  'inner',
  'addToSpan',
  'spanWriter',
  'sink',
  'rolloutId',
  'observers',
  'onError',
]

/** {@link TokenRecorderOptions} checked, with the defaults filled in. */
export interface RecorderSettings<TEvent> {
  /** See {@link TokenRecorderOptions.extractMessageStop}. */
  extractMessageStop: MessageStopExtractor<TEvent> | undefined
  /** See {@link TokenRecorderOptions.inner}. */
  inner: StreamCallback<TEvent> | undefined
  /** See {@link TokenRecorderOptions.addToSpan}; default `true`. */
  addToSpan: boolean
  /** See {@link TokenRecorderOptions.spanWriter}. */
  spanWriter: TokenSpanWriter | undefined
  /** See {@link TokenRecorderOptions.sink}. */
  sink: TokenRecordSink | undefined
  /** See {@link TokenRecorderOptions.rolloutId}. */
  rolloutId: string | undefined
  /** See {@link TokenRecorderOptions.observers}; default none. */
  observers: readonly TokenRecordObserver[]
  /** See {@link TokenRecorderOptions.onError}. */
  onError: ((error: RecorderError) => void) | undefined
}

/** Reads the recorder's options; throws `InvalidOptionError` naming the first bad or unknown one. */
export function readRecorderOptions<TEvent>(
  where: string,
  options: TokenRecorderOptions<TEvent> | undefined,
): RecorderSettings<TEvent> {
  const read = new OptionReader(where, options).rejectUnknown(TOKEN_RECORDER_OPTION_NAMES)
  const rolloutId = read.string('rolloutId', { nonEmpty: true })
  const sink = read.custom('sink', 'a TokenRecordSink (write, flush and close methods)', isSink)
  if (sink !== undefined && rolloutId === undefined) {
    read.fail(
      'sink',
      'a `sink` needs a `rolloutId`, which tags every record so rollouts sharing the sink can be told apart',
    )
  }
  return {
    extractMessageStop: read.function<MessageStopExtractor<TEvent>, { required?: true }>(
      'extractMessageStop',
    ),
    inner: read.function<StreamCallback<TEvent>, { required?: true }>('inner'),
    addToSpan: read.boolean('addToSpan') ?? true,
    spanWriter: read.custom(
      'spanWriter',
      'a TokenSpanWriter (an object with writeSpan(record, call))',
      isSpanWriter,
    ),
    sink,
    rolloutId,
    observers: [...(read.custom('observers', 'an array of TokenRecordObservers', isObserverList) ?? [])],
    onError: read.function<(error: RecorderError) => void, { required?: true }>('onError'),
  }
}

/** Reads the options of `reset`: an optional non-empty `rolloutId`. */
export function readResetRolloutId(where: string, options: unknown): string | undefined {
  return new OptionReader(where, options).rejectUnknown(['rolloutId']).string('rolloutId', { nonEmpty: true })
}

function hasMethods(value: unknown, methods: readonly string[]): boolean {
  if (typeof value !== 'object' || value === null) return false
  return methods.every((method) => typeof (value as Record<string, unknown>)[method] === 'function')
}

function isSink(value: unknown): value is TokenRecordSink {
  return hasMethods(value, ['write', 'flush', 'close'])
}

function isSpanWriter(value: unknown): value is TokenSpanWriter {
  return hasMethods(value, ['writeSpan'])
}

function isObserverList(value: unknown): value is readonly TokenRecordObserver[] {
  return Array.isArray(value) && value.every((observer) => hasMethods(observer, ['onRecord']))
}
