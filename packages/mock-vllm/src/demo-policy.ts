import type { ChatMessage, ChatTool } from '@vllm-tito/spec'
import type { RenderedConversation } from './rendered-conversation'

/**
 * The built-in deterministic "model" of the examples. With a `calculator` tool offered and an arithmetic
 * question as the last user message it thinks briefly and calls the tool; once the tool result is the last
 * message it answers from it; otherwise it replies politely. Thinking is skipped when the request sets
 * `chat_template_kwargs.enable_thinking: false` (the template then pre-fills an empty think block).
 */
export function demoChatReply(body: Record<string, unknown>): string {
  const messages = Array.isArray(body.messages) ? (body.messages as ChatMessage[]) : []
  const thinking =
    (body.chat_template_kwargs as { enable_thinking?: unknown } | undefined)?.enable_thinking !== false
  const think = (thought: string) => (thinking ? `<think>\n${thought}\n</think>\n\n` : '')
  const calculator = findCalculator(body.tools)
  const last = messages[messages.length - 1]
  if (calculator && last?.role === 'tool') {
    const result = textOf(last.content).trim()
    const question = lastUserText(messages)
    const expression = question ? arithmeticIn(question) : undefined
    const subject = expression ? `${expression} is` : 'The result is'
    return `${think(`The calculator returned ${result}.`)}${subject} ${result}.`
  }
  const question = last?.role === 'user' ? textOf(last.content) : undefined
  const expression = question ? arithmeticIn(question) : undefined
  if (calculator && expression) {
    // hermes-style JSON as Qwen3 writes it: Python spacing after ':'
    const argumentsJson = `{${JSON.stringify(calculator.argumentName)}: ${JSON.stringify(expression)}}`
    return `${think(`The user wants ${expression}. I will use the calculator tool.`)}<tool_call>\n{"name": "${calculator.name}", "arguments": ${argumentsJson}}\n</tool_call>`
  }
  return `${think('The user wrote to me. I should reply politely.')}Hello! I am a mock vLLM server. How can I help you today?`
}

/**
 * The demo reply for `/v1/completions`: for a prompt that is a rendered conversation (a client generating
 * from token ids), the reply the chat endpoint would give to it, raw markup included, since no parser runs on
 * completions output; otherwise a short polite continuation.
 */
export function demoCompletionReply(conversation: RenderedConversation | undefined): string {
  if (conversation === undefined) return ' Thank you for your message. This is a mock vLLM server.'
  return demoChatReply({
    messages: conversation.messages,
    tools: conversation.tools,
    chat_template_kwargs: { enable_thinking: conversation.thinking },
  })
}

interface CalculatorTool {
  name: string
  /** The single string parameter of the tool's schema, or `expression`. */
  argumentName: string
}

function findCalculator(tools: unknown): CalculatorTool | undefined {
  if (!Array.isArray(tools)) return undefined
  for (const tool of tools as ChatTool[]) {
    const name = tool?.function?.name
    if (typeof name !== 'string' || !/calculator/i.test(name)) continue
    const properties = (tool.function.parameters as { properties?: Record<string, unknown> } | undefined)
      ?.properties
    const keys = properties ? Object.keys(properties) : []
    return { name, argumentName: keys.length === 1 ? keys[0]! : 'expression' }
  }
  return undefined
}

/** The first arithmetic expression of a question, e.g. `12 * 7` in "What is 12 * 7?". */
function arithmeticIn(text: string): string | undefined {
  const match = /-?\d+(?:\.\d+)?(?:\s*[-+*/×x÷^]\s*\(?-?\d+(?:\.\d+)?\)?)+/.exec(text)
  return match ? match[0].replace(/×|x/g, '*').replace(/÷/g, '/') : undefined
}

function lastUserText(messages: ChatMessage[]): string | undefined {
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    if (messages[index]!.role === 'user') return textOf(messages[index]!.content)
  }
  return undefined
}

function textOf(content: ChatMessage['content'] | undefined): string {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  return content.map((part) => (typeof part.text === 'string' ? part.text : '')).join('\n')
}
