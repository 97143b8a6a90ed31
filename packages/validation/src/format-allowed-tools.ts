import { OptionReader } from '@vllm-tito/spec'

/** Options of {@link formatUnknownToolError}; the names and defaults of Python `VLLMToolValidationHooks`. */
export interface UnknownToolErrorOptions {
  /** Append `| allowed_tools=[...]` to the error. Default `true`. */
  includeAllowedToolsInErrors?: boolean
  /** How many tool names to list before cutting the list with `, ... (+N more)`. Default `25`. */
  maxAllowedToolsInError?: number
}

/** Default of `maxAllowedToolsInError`, as in `strands-vllm`. */
export const DEFAULT_MAX_ALLOWED_TOOLS_IN_ERROR = 25

/**
 * Formats the allowed-tools list of the unknown-tool error: `[a, b, c]`, or when there are more names than
 * `maxAllowedToolsInError`, the first ones and `... (+N more)`: `[a, b, ... (+3 more)]`. Names keep the order
 * given (for the Strands hooks: the tool registry's order).
 */
export function formatAllowedTools(
  allowedToolNames: readonly string[],
  maxAllowedToolsInError: number = DEFAULT_MAX_ALLOWED_TOOLS_IN_ERROR,
): string {
  new OptionReader('formatAllowedTools', { maxAllowedToolsInError }).integer('maxAllowedToolsInError')
  if (allowedToolNames.length <= maxAllowedToolsInError) return `[${allowedToolNames.join(', ')}]`
  const shown = allowedToolNames.slice(0, maxAllowedToolsInError)
  const hiddenCount = allowedToolNames.length - shown.length
  return `[${[...shown, `... (+${hiddenCount} more)`].join(', ')}]`
}

/**
 * The error text for a call to a tool that is not registered, byte for byte that of `strands-vllm`:
 * `Error: unknown tool: fake_tool | allowed_tools=[calculator, search]`, or `Error: unknown tool: fake_tool`
 * when `includeAllowedToolsInErrors` is `false`.
 */
export function formatUnknownToolError(
  toolName: string,
  allowedToolNames: readonly string[],
  options: UnknownToolErrorOptions = {},
): string {
  const read = new OptionReader('formatUnknownToolError', options).rejectUnknown(
    UNKNOWN_TOOL_ERROR_OPTION_NAMES,
  )
  const message = `Error: unknown tool: ${toolName}`
  if (read.boolean('includeAllowedToolsInErrors') === false) return message
  return `${message} | allowed_tools=${formatAllowedTools(allowedToolNames, read.integer('maxAllowedToolsInError'))}`
}

/** The names of {@link UnknownToolErrorOptions}. */
export const UNKNOWN_TOOL_ERROR_OPTION_NAMES: readonly string[] = [
  'includeAllowedToolsInErrors',
  'maxAllowedToolsInError',
]
