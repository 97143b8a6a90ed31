import { describeValue, isPlainObject } from '@vllm-tito/spec'
import { pythonJsonError } from './python-json-errors'
import type { ChatInputRules } from './version-profile'
import { badRequest } from './vllm-errors'

/**
 * The messages as vLLM hands them to the chat template: a new object per message with only the keys vLLM
 * copies (`role`, `content`, and by role `tool_calls`, the reasoning keys, `tool_call_id`, `tools`; `name`
 * and `task` when they are strings), as `_parse_chat_message_content` in `vllm/entrypoints/chat_utils.py`
 * builds them. Any other key of an incoming message never reaches the template. Content is flattened the way
 * vLLM's "string" content format does it (the one Qwen3's template gets), and tool-call arguments are parsed
 * as `_postprocess_messages` does, so the template's `tojson` re-serialises them with Python spacing.
 *
 * @throws VllmHttpError (400) where vLLM answers 400: a message that is not an object, a content part it
 *   cannot render, arguments that are not JSON in generations that reject them.
 */
export function toTemplateMessages(
  messages: readonly unknown[],
  rules: ChatInputRules,
): Record<string, unknown>[] {
  return messages.map((message, index) => toTemplateMessage(message, index, rules))
}

function toTemplateMessage(message: unknown, index: number, rules: ChatInputRules): Record<string, unknown> {
  const where = `messages[${index}]`
  if (!isPlainObject(message)) throw badRequest(`${where} must be an object, got ${describeValue(message)}`)
  const role = message.role
  if (typeof role !== 'string') throw badRequest(`${where}.role must be a string, got ${describeValue(role)}`)
  const result: Record<string, unknown> = { role, content: flattenContent(message.content, where) }
  if (role === 'assistant') {
    if (message.tool_calls !== undefined && message.tool_calls !== null) {
      const toolCalls = templateToolCalls(message.tool_calls, `${where}.tool_calls`, rules)
      // chat_utils drops an empty list "to keep templates on the normal assistant path"
      if (toolCalls.length > 0) result.tool_calls = toolCalls
    }
    const reasoning = incomingReasoning(message, rules, where)
    if (reasoning !== undefined) {
      for (const key of rules.reasoningTemplateKeys) result[key] = reasoning
    }
  } else if (role === 'tool' && 'tool_call_id' in message) {
    result.tool_call_id = message.tool_call_id
  } else if (role === 'developer') {
    result.tools = message.tools ?? null
  }
  if (typeof message.name === 'string') result.name = message.name
  if (typeof message.task === 'string') result.task = message.task
  return result
}

/** The reasoning vLLM reads from an assistant message, or `undefined` when this generation reads none. */
function incomingReasoning(
  message: Record<string, unknown>,
  rules: ChatInputRules,
  where: string,
): string | undefined {
  if (rules.reasoningField === 'none') return undefined
  let reasoning = message.reasoning
  // the request validator of vllm#42664 runs before chat_utils reads `reasoning`
  if (rules.renamesReasoningContent && (reasoning === undefined || reasoning === null)) {
    reasoning = message.reasoning_content
  }
  if (reasoning === undefined || reasoning === null) return undefined
  if (typeof reasoning !== 'string') {
    throw badRequest(`${where}.reasoning must be a string, got ${describeValue(reasoning)}`)
  }
  return reasoning
}

/** Part types vLLM renders as text, and the key their text is read from. */
const textPartKeys: Record<string, string> = {
  text: 'text',
  input_text: 'text',
  output_text: 'text',
  refusal: 'refusal',
  thinking: 'thinking',
  tool_reference: 'name',
}

/** Part types that carry media; the served Qwen3 model is text-only. */
const mediaPartTypes = new Set([
  'image_url',
  'input_image',
  'image_embeds',
  'image_pil',
  'audio_url',
  'input_audio',
  'audio_embeds',
  'video_url',
  'prompt_embeds',
])

/** The list in vLLM's "Unsupported chat content part type" error: sorted, as `chat_utils.py` builds it. */
const supportedPartTypes = [...Object.keys(textPartKeys), ...mediaPartTypes].sort().join(', ')

/**
 * vLLM's "string" content format: `null` is `''`, a string stays, and parts become their texts joined with
 * `'\n'`. A part whose text is missing or empty is skipped (`if parse_res:` in `chat_utils.py`), so it adds no
 * separator.
 */
function flattenContent(content: unknown, where: string): string {
  if (content === undefined || content === null) return ''
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) {
    throw badRequest(
      `${where}.content must be a string, a list of parts or null, got ${describeValue(content)}`,
    )
  }
  const texts: string[] = []
  content.forEach((part: unknown, index) => {
    const text = partText(part, `${where}.content[${index}]`)
    if (text) texts.push(text)
  })
  return texts.join('\n')
}

function partText(part: unknown, where: string): string | undefined {
  if (typeof part === 'string') return part
  if (!isPlainObject(part))
    throw badRequest(`${where} must be a string or an object, got ${describeValue(part)}`)
  const type = part.type
  if (type === undefined || type === null) {
    if ([...mediaPartTypes].some((key) => key in part)) throw textOnly(where, 'media')
    throw badRequest("Missing 'type' field in multimodal part.")
  }
  if (typeof type !== 'string') throw badRequest("Invalid 'type' field in multimodal part.")
  const key = textPartKeys[type]
  if (key !== undefined) {
    const text = part[key]
    return typeof text === 'string' ? text : undefined
  }
  if (mediaPartTypes.has(type)) throw textOnly(where, type)
  throw badRequest(
    `Unsupported chat content part type: '${type}'. Supported types: ${supportedPartTypes}.`,
    'type',
  )
}

function textOnly(where: string, type: string) {
  return badRequest(
    `${where}: mock-vllm serves a text-only model and cannot take a content part of type '${type}'`,
    'type',
  )
}

/** `tool_calls` as the template gets them: each call's `function.arguments` parsed by the generation's rule. */
function templateToolCalls(
  toolCalls: unknown,
  where: string,
  rules: ChatInputRules,
): Record<string, unknown>[] {
  if (!Array.isArray(toolCalls)) throw badRequest(`${where} must be a list, got ${describeValue(toolCalls)}`)
  return toolCalls.map((call: unknown, index) => {
    const callWhere = `${where}[${index}]`
    if (!isPlainObject(call) || !isPlainObject(call.function)) {
      throw badRequest(`${callWhere} must be an object with a \`function\` object`)
    }
    const parsed = parseArguments(call.function.arguments, `${callWhere}.function.arguments`, rules)
    return { ...call, function: { ...call.function, arguments: parsed } }
  })
}

/**
 * `_postprocess_messages`: JSON text becomes the value it encodes. What happens to other text depends on the
 * generation (see {@link ChatInputRules.argumentsParsing}); the 400 carries Python's `JSONDecodeError` text.
 */
function parseArguments(argumentsValue: unknown, where: string, rules: ChatInputRules): unknown {
  if (Array.isArray(argumentsValue) || isPlainObject(argumentsValue)) return argumentsValue
  const emptyIsObject = rules.argumentsParsing !== 'parse-all'
  if (argumentsValue === undefined || argumentsValue === null) {
    if (emptyIsObject) return {}
    const problem = 'the JSON object must be str, bytes or bytearray, not NoneType'
    throw badRequest(rules.appendsErrorCause ? `${problem} None` : problem)
  }
  if (typeof argumentsValue !== 'string') {
    throw badRequest(`${where} must be a string, got ${describeValue(argumentsValue)}`)
  }
  if (argumentsValue === '' && emptyIsObject) return {}
  const problem = pythonJsonError(argumentsValue)
  if (problem !== undefined) {
    if (rules.argumentsParsing === 'invalid-is-object') return {}
    throw badRequest(rules.appendsErrorCause ? `${problem} None` : problem)
  }
  try {
    return JSON.parse(argumentsValue)
  } catch {
    // Python also accepts NaN and Infinity; the template then prints the text as the model wrote it
    return argumentsValue
  }
}
