export {
  type ToolCallProblemCounts,
  type ToolCallProblemKind,
  VLLMToolValidationHooks,
  type VLLMToolValidationHooksOptions,
} from './vllm-tool-validation-hooks'
