import type { RecordContext, TokenRecord } from '@vllm-tito/spec'

/** Where a recorded call belongs: the {@link RecordContext} plus the call's position in its recorder. */
export interface RecordedCall extends RecordContext {
  /** Position of the call among the calls this recorder recorded for its rollout, 0-based. */
  callIndex: number
}

/**
 * Writes the trace data of one model call. The core recorder accepts one so that it never imports
 * OpenTelemetry itself: `@vllm-tito/recorder/otel` provides the OpenTelemetry implementation
 * (`createOtelSpanWriter()`), and tests or other tracing systems can bring their own.
 */
export interface TokenSpanWriter {
  /**
   * Called once per recorded call, synchronously, when the call's record is captured (the message-stop
   * event), so the caller's active context is the one the span should belong to. Should not throw; the
   * recorder reports anything thrown as a `RecorderError` with source `span` and keeps the record.
   */
  writeSpan(record: TokenRecord, call: RecordedCall): void
}
