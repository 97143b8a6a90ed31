export { SseDecoder } from './sse-decoder'
export { isContextOverflowMessage } from './to-api-call-error'
export { type AccumulatorSettings, TokenAccumulator } from './token-accumulator'
export { enforceTokenIdPolicy, type MismatchPolicy, type TokenIdPolicy } from './token-id-policy'
export type {
  TokenCallOptions,
  TokenizeInput,
  TokenizeMessagesInput,
  TokenizePromptInput,
  TokenizeResult,
  UtilityCallOptions,
  VLLMModelInfo,
} from './utility-types'
export { VLLMClient, type VLLMClientOptions } from './vllm-client'
export { VLLMTokenStream } from './vllm-token-stream'
