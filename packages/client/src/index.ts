export { type AssistantTurn, formatAssistantTurn, toAssistantMessage } from './assistant-message'
export type {
  MismatchPolicy,
  TokenCallOptions,
  TokenizeInput,
  TokenizeMessagesInput,
  TokenizePromptInput,
  TokenizeResult,
  UtilityCallOptions,
  VLLMModelInfo,
} from './utility-types'
export { VLLMClient, type VLLMClientOptions } from './vllm-client'
export type { VLLMTokenStream } from './vllm-token-stream'
