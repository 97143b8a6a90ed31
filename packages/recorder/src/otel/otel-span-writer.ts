import { context, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api'
import { OptionReader, type TokenRecord } from '@vllm-tito/spec'
import type { RecordedCall, TokenSpanWriter } from '../token-span-writer'
import { type TokenRecordAttributesOptions, tokenRecordAttributes } from './token-record-attributes'

/** The span name Agent Lightning's `TracerTraceToTriplet` matches by default (`openai\.chat\.completion`). */
export const DEFAULT_TOKEN_SPAN_NAME = 'openai.chat.completion'

/** The instrumentation scope name of the spans this package creates. */
export const TRACER_NAME = '@vllm-tito/recorder'

/** Options of {@link createOtelSpanWriter}. */
export interface OtelSpanWriterOptions extends TokenRecordAttributesOptions {
  /**
   * `dedicated` (default): start one span per call, named {@link spanName}, as a child of the active context
   * (e.g. the caller's rollout span) with the call's real start and end times from `record.timing`.
   * `current`: put the attributes on the active span instead (what `strands-vllm` does). With Strands the active
   * span is the caller's, never the SDK's `chat` span, so a later call overwrites an earlier call's ids there;
   * nothing is written when no span is active.
   */
  mode?: 'dedicated' | 'current'
  /** Name of dedicated spans. Default {@link DEFAULT_TOKEN_SPAN_NAME}. */
  spanName?: string
  /** The tracer for dedicated spans. Default: `trace.getTracer('@vllm-tito/recorder')` from the global provider. */
  tracer?: Tracer
}

/**
 * Creates the OpenTelemetry {@link TokenSpanWriter}: for every recorded call, exactly one span carries the
 * attributes of {@link tokenRecordAttributes}. Pass it to `new TokenRecorder({ spanWriter })`. Without a
 * registered tracer provider the global API hands out non-recording spans and nothing is computed.
 *
 * @throws InvalidOptionError (from `@vllm-tito/spec`) for an unknown `mode`, an empty `spanName`, an invalid
 *   cap or a misspelt option.
 */
export function createOtelSpanWriter(options: OtelSpanWriterOptions = {}): TokenSpanWriter {
  const read = new OptionReader('createOtelSpanWriter', options).rejectUnknown([
    'mode',
    'spanName',
    'tracer',
    'maxTokenIdsPerAttribute',
  ])
  const mode = read.oneOf('mode', ['dedicated', 'current']) ?? 'dedicated'
  const spanName = read.string('spanName', { nonEmpty: true }) ?? DEFAULT_TOKEN_SPAN_NAME
  const cap = read.integer('maxTokenIdsPerAttribute')
  const customTracer = read.custom('tracer', 'an OpenTelemetry Tracer (with startSpan)', isTracer)
  const attributeOptions: TokenRecordAttributesOptions =
    cap === undefined ? {} : { maxTokenIdsPerAttribute: cap }
  if (mode === 'current')
    return { writeSpan: (record, call) => annotateActiveSpan(record, call, attributeOptions) }
  const tracer = customTracer ?? trace.getTracer(TRACER_NAME)
  return {
    writeSpan: (record, call) => writeDedicatedSpan(tracer, spanName, record, call, attributeOptions),
  }
}

function writeDedicatedSpan(
  tracer: Tracer,
  spanName: string,
  record: TokenRecord,
  call: RecordedCall,
  attributeOptions: TokenRecordAttributesOptions,
): void {
  // Date objects, not numbers: the API reads small numbers as performance.now() offsets
  const span = tracer.startSpan(
    spanName,
    { kind: SpanKind.CLIENT, startTime: new Date(record.timing.startedAt) },
    context.active(),
  )
  // a non-recording span (no provider, or sampled out) gets nothing computed
  if (span.isRecording()) {
    span.setAttributes(tokenRecordAttributes(record, call, attributeOptions))
    if (!record.complete) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'model call interrupted; the record is partial' })
    }
  }
  span.end(new Date(Math.max(record.timing.endedAt, record.timing.startedAt)))
}

function annotateActiveSpan(
  record: TokenRecord,
  call: RecordedCall,
  attributeOptions: TokenRecordAttributesOptions,
): void {
  const span = trace.getActiveSpan()
  if (span === undefined || !span.isRecording()) return
  span.setAttributes(tokenRecordAttributes(record, call, attributeOptions))
}

function isTracer(value: unknown): value is Tracer {
  return typeof value === 'object' && value !== null && typeof (value as Tracer).startSpan === 'function'
}
