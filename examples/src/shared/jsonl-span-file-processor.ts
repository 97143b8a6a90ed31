import { appendFileSync } from 'node:fs'
import type { HrTime } from '@opentelemetry/api'
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base'

/** One finished span as a JSON line: ids, parent, timing and every attribute, as an exporter would ship it. */
export interface SpanLine {
  name: string
  traceId: string
  spanId: string
  /** `null` for a root span. */
  parentSpanId: string | null
  /** `SpanKind` number (0 internal, 2 client, …). */
  kind: number
  /** Milliseconds since the Unix epoch. */
  startTimeMs: number
  endTimeMs: number
  /** `SpanStatusCode` number (0 unset, 1 ok, 2 error). */
  statusCode: number
  attributes: Record<string, unknown>
}

/** Converts a finished span to its {@link SpanLine}. */
export function toSpanLine(span: ReadableSpan): SpanLine {
  return {
    name: span.name,
    traceId: span.spanContext().traceId,
    spanId: span.spanContext().spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? null,
    kind: span.kind,
    startTimeMs: toMilliseconds(span.startTime),
    endTimeMs: toMilliseconds(span.endTime),
    statusCode: span.status.code,
    attributes: { ...span.attributes },
  }
}

/**
 * A span processor that appends every finished span to a JSONL file as it ends, synchronously, so the file is
 * complete when the run ends (even without a flush). A stand-in for an OTLP exporter in the examples: Agent
 * Lightning reads the same attributes from whatever exporter it configures.
 */
export class JsonlSpanFileProcessor implements SpanProcessor {
  /** The file spans are appended to. */
  readonly path: string
  #spanCount = 0

  constructor(path: string) {
    this.path = path
  }

  /** Spans written so far. */
  get spanCount(): number {
    return this.#spanCount
  }

  /** Nothing to do when a span starts: it is written once it has ended. */
  onStart(): void {}

  /** Appends the finished span as one line. */
  onEnd(span: ReadableSpan): void {
    appendFileSync(this.path, `${JSON.stringify(toSpanLine(span))}\n`)
    this.#spanCount += 1
  }

  /** Lines are in the file as soon as a span ends, so there is nothing to flush. */
  async forceFlush(): Promise<void> {}

  /** Nothing to release: each append opens and closes the file. */
  async shutdown(): Promise<void> {}
}

function toMilliseconds([seconds, nanoseconds]: HrTime): number {
  return seconds * 1000 + Math.round(nanoseconds / 1e6)
}
