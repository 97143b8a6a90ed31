export type {
  ChatContentPart,
  ChatMessage,
  ChatRequest,
  ChatTool,
  ChatToolCall,
  ChatToolChoice,
  CompletionRequest,
  JsonValue,
  SamplingParams,
} from './chat-request'
export {
  describeValue,
  findTokenIdsProblem,
  isPlainObject,
  isTokenId,
  isTokenIdList,
  MAX_TOKEN_ID,
  sameIds,
  startsWithConcatenation,
  startsWithIds,
} from './checks'
export { hasErrorMarker } from './error-marker'
export {
  APICallError,
  type APICallErrorOptions,
  ContextOverflowError,
  isRetryableStatus,
  StreamInterruptedError,
  StreamingUnsupportedError,
  TokenIdsMismatchError,
  TokenIdsUnavailableError,
  VLLMTitoError,
} from './errors'
export {
  INVALID_JSON_ARGUMENTS_KEY,
  unwrapInvalidJsonArguments,
  wrapInvalidJsonArguments,
} from './invalid-json-arguments'
export {
  extractTokenRecord,
  isTokenRecord,
  MESSAGE_METADATA_KEY,
  toResponseFields,
  type VLLMResponseFields,
} from './model-response-fields'
export {
  type CallAttemptInfo,
  type ClientCallObserver,
  noopClientCallObserver,
  noopTokenRecordObserver,
  noopTokenRecordSink,
  type RecordContext,
  type TextTokenizer,
  type TokenRecordObserver,
  type TokenRecordSink,
} from './observers'
export { InvalidOptionError, OptionReader, type RequiredOption } from './options'
export type {
  ChoiceEndEvent,
  ReasoningDeltaEvent,
  ResponseEndEvent,
  ResponseStartEvent,
  TextDeltaEvent,
  TokenDeltaEvent,
  TokenStreamEvent,
  ToolCallDeltaEvent,
  UsageEvent,
} from './stream-events'
export {
  type FinishReason,
  type RequestTiming,
  type TaggedTokenRecord,
  TOKEN_RECORD_SCHEMA_VERSION,
  type TokenInPrompt,
  type TokenInRenderReason,
  type TokenInSegment,
  type TokenRecord,
  type TokenUsage,
  type TokenVerification,
  type ToolCallRecord,
  type TopLogprob,
  type VerificationStatus,
} from './token-record'
export type {
  ChatTemplateInput,
  RenderedChatTemplate,
  StreamCallOptions,
  TokenStream,
  TokenStreamingClient,
} from './token-streaming-client'
export { untilAborted } from './until-aborted'
