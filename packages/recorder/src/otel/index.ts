export {
  createOtelSpanWriter,
  DEFAULT_TOKEN_SPAN_NAME,
  type OtelSpanWriterOptions,
  TRACER_NAME,
} from './otel-span-writer'
export {
  TOKEN_SPAN_ATTRIBUTES,
  type TokenRecordAttributesOptions,
  tokenRecordAttributes,
} from './token-record-attributes'
