/** A tool call found in a reply, as the model wrote it. */
export interface ParsedToolCall {
  /** Position among the reply's calls, from 0. */
  index: number
  /** The function name. */
  name: string
  /**
   * The arguments value exactly as written (may be invalid JSON: the model's own mistake), `''` when the
   * call has none.
   */
  rawArguments: string
}

/** What a reply says, split the way vLLM's qwen3 reasoning parser and hermes tool parser split it. */
export interface ParsedReply {
  /** Reasoning (`<think>…</think>`), `null` when the reply has no think block. */
  reasoning: string | null
  /** The text after the reasoning and before the first tool call (`''` when there is none). */
  content: string
  /** The tool calls, in order. */
  toolCalls: ParsedToolCall[]
}

const THINK_START = '<think>'
const THINK_END = '</think>'
const TOOL_START = '<tool_call>'
const TOOL_END = '</tool_call>'
const NAME_FIELD = /"name"\s*:\s*("(?:[^"\\]|\\.)*")/
const ARGUMENTS_FIELD = /"arguments"\s*:\s*/

/**
 * Splits a raw completion (markup included; `/v1/completions` runs no parser) into reasoning, content and tool
 * calls, following what vLLM's chat endpoint gives for the same text when it streams:
 * - reasoning (qwen3 parser, `vllm/reasoning/qwen3_reasoning_parser.py`): the text before `</think>`, after a
 *   `<think>` that precedes it; a reply cut inside the block is all reasoning; text before `<think>` is
 *   dropped, as the parser partitions on it;
 * - tool calls (hermes parser, `vllm/tool_parsers/hermes_tool_parser.py`), only when `toolsOffered`: content
 *   ends at the first `<tool_call>`; each block gives a call when its `"name"` can be read, with the
 *   `"arguments"` value cut out by bracket matching and kept raw, so invalid JSON stays as the model wrote
 *   it; a block without a readable name ends the calls (the parser waits for it). Calls inside the reasoning
 *   are reasoning text and never become calls.
 */
export function parseReply(text: string, toolsOffered: boolean): ParsedReply {
  const thinkEnd = text.indexOf(THINK_END)
  const thinkStart = text.indexOf(THINK_START)
  let reasoning: string | null = null
  let rest = text
  if (thinkEnd >= 0) {
    const start = thinkStart >= 0 && thinkStart < thinkEnd ? thinkStart + THINK_START.length : 0
    reasoning = text.slice(start, thinkEnd)
    rest = text.slice(thinkEnd + THINK_END.length)
  } else if (thinkStart >= 0) {
    reasoning = text.slice(thinkStart + THINK_START.length)
    rest = ''
  }
  const firstCall = toolsOffered ? rest.indexOf(TOOL_START) : -1
  if (firstCall < 0) return { reasoning, content: rest, toolCalls: [] }
  return { reasoning, content: rest.slice(0, firstCall), toolCalls: readToolCalls(rest, firstCall) }
}

function readToolCalls(text: string, first: number): ParsedToolCall[] {
  const calls: ParsedToolCall[] = []
  let start = first
  while (start >= 0) {
    const bodyStart = start + TOOL_START.length
    const close = text.indexOf(TOOL_END, bodyStart)
    const body = text.slice(bodyStart, close >= 0 ? close : text.length).trim()
    const name = readName(body)
    if (name === undefined) break
    calls.push({ index: calls.length, name, rawArguments: readArguments(body, close >= 0) })
    start = close >= 0 ? text.indexOf(TOOL_START, close + TOOL_END.length) : -1
  }
  return calls
}

function readName(body: string): string | undefined {
  const match = NAME_FIELD.exec(body)
  if (!match) return undefined
  try {
    const name = JSON.parse(match[1]!) as string
    return name === '' ? undefined : name
  } catch {
    return undefined
  }
}

/**
 * The raw `"arguments"` value: an object or array up to its matching bracket (strings respected), or, for a
 * scalar, the rest of a closed call without the outer `}`; `''` when there is no `"arguments"` key.
 */
function readArguments(body: string, closed: boolean): string {
  const match = ARGUMENTS_FIELD.exec(body)
  if (!match) return ''
  const raw = body.slice(match.index + match[0].length)
  const open = raw[0]
  if (open !== '{' && open !== '[') {
    const trimmed = raw.trimEnd()
    return closed && trimmed.endsWith('}') ? trimmed.slice(0, -1).trimEnd() : raw
  }
  const closing = open === '{' ? '}' : ']'
  let depth = 0
  let inString = false
  for (let index = 0; index < raw.length; index += 1) {
    const character = raw[index]
    if (inString) {
      if (character === '\\') index += 1
      else if (character === '"') inString = false
    } else if (character === '"') inString = true
    else if (character === open) depth += 1
    else if (character === closing) {
      depth -= 1
      if (depth === 0) return raw.slice(0, index + 1)
    }
  }
  return raw
}
