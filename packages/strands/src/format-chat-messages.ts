import {
  type ContentBlock,
  type JSONValue,
  type Message,
  ModelError,
  type SystemPrompt,
  type ToolResultBlock,
  type ToolUseBlock,
} from '@strands-agents/sdk'
import { formatAssistantTurn } from '@vllm-tito/client'
import {
  type ChatMessage,
  type ChatToolCall,
  extractTokenRecord,
  isPlainObject,
  MESSAGE_METADATA_KEY,
  type TokenRecord,
  type ToolCallRecord,
  unwrapInvalidJsonArguments,
} from '@vllm-tito/spec'

/**
 * Converts the Strands conversation to OpenAI chat messages for vLLM, keeping the next rendered prompt as
 * close as possible to what the model actually produced (token-in/token-out):
 * - assistant text is sent as vLLM's parsers returned it (the SDK drops whitespace-only text blocks; the exact
 *   text then comes back from the token record on `message.metadata.custom.vllm`); the separators hermes-style
 *   chat templates insert themselves are removed and reasoning goes back under both `reasoning` and
 *   `reasoning_content`, by the client's `formatAssistantTurn` (the rule `toAssistantMessage` applies too);
 * - tool-call arguments are the raw string the model produced (from the token record) when it is a JSON
 *   object, the new input serialised when a hook changed it, and `{}` when the model's text is not a JSON
 *   object (malformed JSON): vLLM before vllm-project/vllm#48922 refuses such text with a 400 on every later
 *   call, and later versions render it as `{}` anyway (see `rawArguments`);
 * - error tool results are sent without any prefix (the text already says what went wrong, as in Python);
 * - several user text blocks are joined with `\n`, as vLLM joins text parts for string-content templates.
 *
 * @throws ModelError naming the block type when a message holds content vLLM chat cannot take (media,
 *   guard content).
 */
export function formatChatMessages(messages: readonly Message[], systemPrompt?: SystemPrompt): ChatMessage[] {
  const formatted: ChatMessage[] = []
  const system = formatSystemPrompt(systemPrompt)
  if (system !== undefined) formatted.push({ role: 'system', content: system })
  for (const message of messages) {
    if (message.role === 'assistant') formatted.push(formatAssistantMessage(message))
    else formatted.push(...formatUserMessage(message))
  }
  return formatted
}

function formatSystemPrompt(systemPrompt: SystemPrompt | undefined): string | undefined {
  if (systemPrompt === undefined) return undefined
  if (typeof systemPrompt === 'string') return systemPrompt.length > 0 ? systemPrompt : undefined
  const texts: string[] = []
  for (const block of systemPrompt) {
    if (block.type === 'textBlock') texts.push(block.text)
    else if (block.type !== 'cachePointBlock') throw unsupportedBlock(block.type, 'the system prompt')
  }
  return texts.length > 0 ? texts.join('') : undefined
}

function formatUserMessage(message: Message): ChatMessage[] {
  // tool results go first: the chat format wants them right after the assistant message that called them
  const toolMessages: ChatMessage[] = []
  const texts: string[] = []
  for (const block of message.content) {
    if (block.type === 'toolResultBlock') toolMessages.push(formatToolResult(block))
    else if (block.type === 'textBlock') texts.push(block.text)
    else if (block.type !== 'cachePointBlock') throw unsupportedBlock(block.type, 'a user message')
  }
  if (texts.length > 0) toolMessages.push({ role: 'user', content: texts.join('\n') })
  return toolMessages
}

function formatToolResult(block: ToolResultBlock): ChatMessage {
  const parts: string[] = []
  for (const content of block.content) {
    if (content.type === 'textBlock') parts.push(content.text)
    else if (content.type === 'jsonBlock') parts.push(JSON.stringify(content.json))
    else throw unsupportedBlock(content.type, `the result of tool call ${block.toolUseId}`)
  }
  return { role: 'tool', tool_call_id: block.toolUseId, content: parts.join('') }
}

function formatAssistantMessage(message: Message): ChatMessage {
  const record = extractTokenRecord(message.metadata?.custom?.[MESSAGE_METADATA_KEY])
  const texts: string[] = []
  const reasoning: string[] = []
  const toolUses: ToolUseBlock[] = []
  for (const block of message.content) {
    if (block.type === 'textBlock') texts.push(block.text)
    else if (block.type === 'reasoningBlock') {
      if (block.text !== undefined) reasoning.push(block.text)
    } else if (block.type === 'toolUseBlock') toolUses.push(block)
    else if (block.type !== 'cachePointBlock') throw unsupportedBlock(block.type, 'an assistant message')
  }
  return formatAssistantTurn({
    text: exactText(texts.join(''), record),
    reasoning: reasoning.length > 0 ? reasoning.join('') : null,
    toolCalls: toolUses.map((block, position) => formatToolCall(block, position, record)),
  })
}

/**
 * The SDK drops whitespace-only text blocks from aggregated messages; when the remaining text still equals
 * the recorded text up to whitespace, the recorded text is what the model produced and is sent instead.
 */
function exactText(text: string, record: TokenRecord | undefined): string {
  if (record === undefined || text === record.text) return text
  return withoutWhitespace(text) === withoutWhitespace(record.text) ? record.text : text
}

function withoutWhitespace(text: string): string {
  return text.replace(/\s+/g, '')
}

function formatToolCall(
  block: ToolUseBlock,
  position: number,
  record: TokenRecord | undefined,
): ChatToolCall {
  return {
    id: block.toolUseId,
    type: 'function',
    function: { name: block.name, arguments: rawArguments(block, recordedCall(block, position, record)) },
  }
}

/** The recorded call behind a tool-use block: by id, or by position when the server sent no ids. */
function recordedCall(
  block: ToolUseBlock,
  position: number,
  record: TokenRecord | undefined,
): ToolCallRecord | undefined {
  if (record === undefined) return undefined
  const byId = record.toolCalls.find((call) => call.id === block.toolUseId)
  if (byId !== undefined) return byId
  const byPosition = record.toolCalls[position]
  return byPosition?.id === null && byPosition.name === block.name ? byPosition : undefined
}

/**
 * What every vLLM renders for arguments that are not a JSON object since vllm-project/vllm#48922, and what
 * none of them refuses: earlier versions answer 400 to replayed text that is not JSON, on every later call.
 */
const EMPTY_ARGUMENTS = '{}'

/**
 * The arguments sent back for a tool call: the raw string the model produced when it is a JSON object and no
 * hook replaced the input, the new input serialised when one did, and `{}` for anything that is not a JSON
 * object (malformed, nested too deep to hand over parsed, an array or a scalar). The record keeps the raw
 * text; the next prompt then differs from what the model sampled there, which the trajectory builder detects.
 */
function rawArguments(block: ToolUseBlock, call: ToolCallRecord | undefined): string {
  if (unwrapInvalidJsonArguments(block.input) !== undefined || !isPlainObject(block.input)) {
    return EMPTY_ARGUMENTS
  }
  if (call !== undefined && sameJson(call.arguments, block.input)) return call.arguments
  return JSON.stringify(block.input)
}

/** Whether the raw arguments still parse to `input`, i.e. no hook replaced the input since the model call. */
function sameJson(raw: string, input: JSONValue): boolean {
  try {
    return JSON.stringify(JSON.parse(raw === '' ? '{}' : raw)) === JSON.stringify(input)
  } catch {
    return false
  }
}

function unsupportedBlock(blockType: ContentBlock['type'] | string, where: string): ModelError {
  return new ModelError(
    `VLLMModel cannot send a ${blockType} in ${where}: only text, reasoning, tool-use, tool-result (text or JSON) and cache-point blocks are supported`,
  )
}
