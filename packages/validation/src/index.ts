export {
  checkToolInput,
  DEFAULT_TOOL_INPUT_CHECK_OPTIONS,
  type ResolvedToolInputCheckOptions,
  resolveToolInputCheckOptions,
  type ToolInputCheckOptions,
  validateToolInput,
} from './check-tool-input'
export type { ToolInputSchema } from './compile-tool-schema'
export { createToolInputValidator, type ToolInputValidator } from './create-tool-input-validator'
export {
  DEFAULT_MAX_ALLOWED_TOOLS_IN_ERROR,
  formatAllowedTools,
  formatUnknownToolError,
  type UnknownToolErrorOptions,
} from './format-allowed-tools'
export { INVALID_JSON_ARGUMENTS_KEY } from './invalid-json-arguments-key'
export { InvalidToolSchemaError } from './invalid-tool-schema-error'
export {
  TOOL_INPUT_PROBLEM_KINDS,
  type ToolInputProblem,
  type ToolInputProblemKind,
} from './tool-input-problem'
