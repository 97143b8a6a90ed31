import { type ChatTool, isPlainObject } from '@vllm-tito/spec'
import type { MockContext } from './mock-context'
import { badRequest, validationMessages } from './vllm-errors'

/** `tools` and `tool_choice` of a chat request, after vLLM's `check_tool_usage` validator accepted them. */
export interface ChatToolSettings {
  /** The tools to render into the prompt, or undefined for none (an accepted `tools: []` renders none). */
  tools: ChatTool[] | undefined
  /** `tool_choice` as sent, defaulting to `auto` when tools are offered and `none` otherwise. */
  toolChoice: unknown
  /** Whether the hermes tool parser runs on the output (tools offered and `tool_choice` not `none`). */
  toolsActive: boolean
  /** Whether `tool_choice` names one function. */
  namedToolChoice: boolean
}

const usageHint = 'Correct usage: `{"type": "function", "function": {"name": "my_function"}}`'

/**
 * Reads and checks `tools` and `tool_choice` as `ChatCompletionRequest.check_tool_usage` does (texts from
 * `vllm/entrypoints/openai/chat_completion/protocol.py`). `tools: []` is a 400 in generations with
 * vllm-project/vllm#39780 and rendered as no tools before it.
 */
export function readChatTools(context: MockContext, body: Record<string, unknown>): ChatToolSettings {
  const tools = readTools(body.tools)
  if (tools?.length === 0 && context.profile.chatInput.rejectsEmptyTools) {
    throw badRequest(validationMessages.emptyTools, 'tools')
  }
  const offered = tools !== undefined && tools.length > 0
  const toolChoice = body.tool_choice ?? (offered ? 'auto' : 'none')
  if (body.tool_choice !== undefined && body.tool_choice !== null && body.tool_choice !== 'none') {
    checkToolChoice(body.tool_choice, tools)
  }
  if (offered && toolChoice === 'auto' && !context.enableAutoToolChoice) {
    throw badRequest(validationMessages.autoToolChoiceWithoutFlags)
  }
  return {
    tools,
    toolChoice,
    toolsActive: offered && toolChoice !== 'none',
    namedToolChoice: isPlainObject(toolChoice),
  }
}

function readTools(value: unknown): ChatTool[] | undefined {
  if (value === undefined || value === null) return undefined
  if (!Array.isArray(value)) throw badRequest('tools: Input should be a valid list', 'tools')
  value.forEach((tool: unknown, index) => {
    const name = isPlainObject(tool) && isPlainObject(tool.function) ? tool.function.name : undefined
    if (typeof name !== 'string') {
      throw badRequest(`tools[${index}].function.name: Field required (a string)`, 'tools')
    }
  })
  return value as ChatTool[]
}

function checkToolChoice(toolChoice: unknown, tools: ChatTool[] | undefined): void {
  if (tools === undefined) throw badRequest(validationMessages.toolChoiceWithoutTools, 'tool_choice')
  if (toolChoice === 'auto' || toolChoice === 'required') return
  if (!isPlainObject(toolChoice)) {
    throw badRequest(
      `Invalid value for \`tool_choice\`: ${pythonStr(toolChoice)}! Only named tools, "none", "auto" or "required" are supported.`,
      'tool_choice',
    )
  }
  const choice = toolChoice.function
  if (!isPlainObject(choice)) {
    throw badRequest(
      `Invalid value for \`function\`: \`${pythonStr(choice)}\` in \`tool_choice\`! ${usageHint}`,
      'tool_choice.function',
    )
  }
  if (!('name' in choice)) {
    throw badRequest(
      `Expected field \`name\` in \`function\` in \`tool_choice\`! ${usageHint}`,
      'tool_choice.function.name',
    )
  }
  const name = choice.name
  if (typeof name !== 'string' || name.length === 0) {
    throw badRequest(
      `Invalid \`name\` in \`function\`: \`${pythonStr(name)}\` in \`tool_choice\`! ${usageHint}`,
      'tool_choice.function.name',
    )
  }
  if (!tools.some((tool) => tool.function.name === name)) {
    throw badRequest(validationMessages.unknownNamedTool, 'tool_choice')
  }
}

/** Python's `str()` of a JSON value, as the f-strings of those messages print it (objects print as JSON). */
function pythonStr(value: unknown): string {
  if (value === undefined || value === null) return 'None'
  if (value === true) return 'True'
  if (value === false) return 'False'
  return typeof value === 'string' ? value : JSON.stringify(value)
}
