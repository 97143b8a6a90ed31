export { checkToolInput } from './check-tool-input'
export type { ToolInputSchema } from './compile-tool-schema'
export { createToolInputValidator, type ToolInputValidator } from './create-tool-input-validator'
export {
  DEFAULT_MAX_ALLOWED_TOOLS_IN_ERROR,
  formatAllowedTools,
  formatUnknownToolError,
  type UnknownToolErrorOptions,
} from './format-allowed-tools'
export { InvalidToolSchemaError } from './invalid-tool-schema-error'
export type { ToolInputCheckOptions } from './tool-input-check-options'
export {
  TOOL_INPUT_PROBLEM_KINDS,
  type ToolInputProblem,
  type ToolInputProblemKind,
} from './tool-input-problem'
