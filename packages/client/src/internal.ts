// `@vllm-tito/client/internal`: the pieces the client is built from, for tools that replay or proxy vLLM
// traffic (e.g. rebuilding records from a stored SSE capture). Not covered by semver: they change with the
// client's internals.
export { buildRecords, type RecordsEnding } from './build-records'
export { EventBatch } from './event-batch'
export { chatSettings, completionSettings, type ResponseSettings } from './response-settings'
export { ResponseState } from './response-state'
export { SseDecoder } from './sse-decoder'
export { readSsePayloads, type SseEnd } from './sse-payloads'
export { isContextOverflowMessage } from './to-api-call-error'
export { enforceTokenIdPolicy, type TokenIdPolicy } from './token-id-policy'
