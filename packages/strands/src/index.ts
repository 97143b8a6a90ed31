// VLLMModel, the Strands provider of this package

// the bundle: one install gives everything, as `pip install strands-vllm` does
export { VLLMClient, type VLLMClientOptions } from '@vllm-tito/client'
export { VLLMTokenRecorder, type VLLMTokenRecorderOptions } from '@vllm-tito/recorder/strands'
export {
  extractTokenRecord,
  INVALID_JSON_ARGUMENTS_KEY,
  MESSAGE_METADATA_KEY,
  type TokenRecord,
} from '@vllm-tito/spec'
export { TokenManager, type TokenManagerOptions } from '@vllm-tito/trajectory'
export { VLLMToolValidationHooks, type VLLMToolValidationHooksOptions } from '@vllm-tito/validation/strands'
export { toStrandsError } from './to-strands-error'
export { TokenInError, type TokenInErrorCode } from './token-in/token-in-error'
export { VLLMModel } from './vllm-model'
export type { TokenInOptions, VLLMModelConfig, VLLMModelOptions } from './vllm-model-config'
