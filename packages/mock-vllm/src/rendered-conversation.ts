import type { ChatMessage, ChatTool } from '@vllm-tito/spec'

/**
 * A conversation read back from a prompt that Qwen3's chat template rendered: what a `/v1/completions`
 * request carries when a client generates from token ids (token-in). The policies answer it as they answer
 * the same conversation on `/v1/chat/completions`.
 */
export interface RenderedConversation {
  /** The messages, in order: `system`, `user`, `assistant` (raw text, markup included) and `tool` results. */
  messages: ChatMessage[]
  /** The tools of the system block's `<tools>` list; empty when the prompt offers none. */
  tools: ChatTool[]
  /**
   * `false` when the generation prompt pre-fills the empty think block (`enable_thinking: false`), otherwise
   * `true`.
   */
  thinking: boolean
}

const TURN_START = '<|im_start|>'
const TURN_END = '<|im_end|>'
const GENERATION_PROMPT = `${TURN_START}assistant\n`
const EMPTY_THINK = '<think>\n\n</think>\n\n'
const TOOLS_BLOCK = /<tools>\n([\s\S]*?)\n<\/tools>/
const TOOL_RESPONSE = /<tool_response>\n([\s\S]*?)\n<\/tool_response>/g

/**
 * Reads a rendered Qwen3 conversation that ends with an open assistant turn (the generation prompt), or
 * returns `undefined` for any other text (a plain completion prompt).
 */
export function readRenderedConversation(text: string): RenderedConversation | undefined {
  let body = text
  let thinking = true
  if (body.endsWith(GENERATION_PROMPT + EMPTY_THINK)) {
    thinking = false
    body = body.slice(0, -EMPTY_THINK.length)
  }
  if (!body.startsWith(TURN_START) || !body.endsWith(GENERATION_PROMPT)) return undefined
  const turns = body.slice(0, -GENERATION_PROMPT.length).split(TURN_START).slice(1)
  const messages: ChatMessage[] = []
  let tools: ChatTool[] = []
  for (const turn of turns) {
    const newline = turn.indexOf('\n')
    const role = turn.slice(0, newline)
    const end = turn.lastIndexOf(TURN_END)
    if (newline < 0 || end < newline) return undefined
    const content = turn.slice(newline + 1, end)
    if (role === 'system') {
      const toolsBlock = TOOLS_BLOCK.exec(content)
      if (toolsBlock) tools = parseTools(toolsBlock[1]!)
      const systemText = toolsBlock ? content.slice(0, content.indexOf('# Tools')).trimEnd() : content
      if (systemText !== '') messages.push({ role: 'system', content: systemText })
    } else if (role === 'user' && content.startsWith('<tool_response>')) {
      for (const match of content.matchAll(TOOL_RESPONSE)) messages.push({ role: 'tool', content: match[1]! })
    } else if (role === 'user' || role === 'assistant') {
      messages.push({ role, content })
    } else {
      return undefined
    }
  }
  return { messages, tools, thinking }
}

/** One tool per line of the `<tools>` block (the template writes each with `tojson`). */
function parseTools(lines: string): ChatTool[] {
  const tools: ChatTool[] = []
  for (const line of lines.split('\n')) {
    try {
      tools.push(JSON.parse(line) as ChatTool)
    } catch {
      // a line that is not a tool (the template writes none) is skipped
    }
  }
  return tools
}
