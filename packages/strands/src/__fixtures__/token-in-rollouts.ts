// A calculator agent on mock-vllm for the token-in tests: a reply policy that answers the same conversation
// alike on /v1/chat/completions (chat mode) and /v1/completions (token-in mode, the conversation read back
// from the rendered prompt ids), the tool, and the template-side expectations the golden tests compare with.
import {
  Agent,
  type Message,
  ModelStreamUpdateEvent,
  NullConversationManager,
  type Plugin,
  tool,
} from '@strands-agents/sdk'
import type { MockReplyRequest, MockVllmServer, Qwen3Tokenizer } from '@vllm-tito/mock-vllm'
import { type ChatMessage, type ChatTool, extractTokenRecord, type TokenRecord } from '@vllm-tito/spec'
import { z } from 'zod'
import { formatChatMessages } from '../format-chat-messages'
import { VLLMModel } from '../vllm-model'
import type { VLLMModelOptions } from '../vllm-model-config'

export const MODEL_ID = 'Qwen/Qwen3-8B'
export const IM_END = 151645
export const SYSTEM_PROMPT = 'You are a calculator assistant.'

/** `12 * 7`, `3 + 4`, `9 - 5`. */
function evaluate(expression: string): number {
  const match = /^(\d+) ([*+-]) (\d+)$/.exec(expression)
  if (!match) throw new Error(`cannot evaluate ${expression}`)
  const [left, right] = [Number(match[1]), Number(match[3])]
  return match[2] === '*' ? left * right : match[2] === '+' ? left + right : left - right
}

export const calculator = tool({
  name: 'calculator',
  description: 'Evaluates one arithmetic expression such as 12 * 7.',
  inputSchema: z.object({ expression: z.string() }).strict(),
  callback: ({ expression }) => String(evaluate(expression)),
})

/** The conversation of a request, on either endpoint, with whether thinking is on. */
function conversationOf(request: MockReplyRequest): { messages: ChatMessage[]; thinking: boolean } {
  if (request.endpoint === 'chat') {
    const kwargs = request.body.chat_template_kwargs as { enable_thinking?: boolean } | undefined
    return { messages: request.body.messages as ChatMessage[], thinking: kwargs?.enable_thinking !== false }
  }
  if (request.conversation === undefined)
    throw new Error('the completions prompt is not a rendered conversation')
  return request.conversation
}

const call = (argumentsJson: string) =>
  `<tool_call>\n{"name": "calculator", "arguments": ${argumentsJson}}\n</tool_call>`

/**
 * The "model": a user turn with arithmetic gets one call per expression (parallel calls for several), one
 * starting with `broken:` a call whose arguments are not JSON, one asking for a story a long answer (for
 * `max_tokens` cuts); tool results get the answer. Thinking on, each reply starts with a think block.
 */
export function calculatorPolicy(request: MockReplyRequest): string {
  const { messages, thinking } = conversationOf(request)
  const think = (thought: string) => (thinking ? `<think>\n${thought}\n</think>\n\n` : '')
  const last = messages.at(-1)
  const content = typeof last?.content === 'string' ? last.content : ''
  if (last?.role === 'tool') {
    const results: string[] = []
    for (let index = messages.length - 1; messages[index]?.role === 'tool'; index -= 1) {
      results.unshift(String(messages[index]!.content))
    }
    if (results.some((result) => result.startsWith('Error'))) {
      return `${think('The call failed.')}I could not compute it.`
    }
    return `${think(`The calculator returned ${results.join(', ')}.`)}The answer is ${results.join(' and ')}.`
  }
  if (content.includes('story'))
    return `${think('A long story.')}${'Once upon a time there was a number. '.repeat(12)}`
  if (content.startsWith('broken:')) return `${think('I will compute it.')}${call('{"expression": 12 * 7}')}`
  const expressions = content.match(/\d+ [*+-] \d+/g) ?? []
  if (expressions.length === 0) return `${think('Nothing to compute.')}Ask me some arithmetic.`
  const calls = expressions.map((expression) => call(`{"expression": "${expression}"}`))
  return `${think(`I will compute ${expressions.join(' and ')}.`)}${calls.join('\n')}`
}

/** An agent with the calculator on `server`, recording every call's record (failed calls included). */
export function calculatorAgent(
  server: MockVllmServer,
  options: { tokenIn: boolean; thinking: boolean; plugins?: Plugin[]; model?: Partial<VLLMModelOptions> },
): { agent: Agent; model: VLLMModel; records: TokenRecord[] } {
  const model = new VLLMModel({
    baseUrl: server.baseUrl,
    modelId: MODEL_ID,
    returnTokenIds: true,
    tokenIn: options.tokenIn,
    params: { chat_template_kwargs: { enable_thinking: options.thinking } },
    ...options.model,
  })
  const agent = new Agent({
    model,
    tools: [calculator],
    systemPrompt: SYSTEM_PROMPT,
    plugins: options.plugins ?? [],
    printer: false,
    conversationManager: new NullConversationManager(),
    retryStrategy: null,
  })
  const records: TokenRecord[] = []
  agent.addHook(ModelStreamUpdateEvent, (update) => {
    if (update.event.type !== 'modelMessageStopEvent') return
    const record = extractTokenRecord(update.event.additionalModelResponseFields)
    if (record !== undefined) records.push(record)
  })
  return { agent, model, records }
}

/** The tools and template arguments the server rendered with: those of the latest `/tokenize` request with tools. */
export function renderedSettings(server: MockVllmServer): {
  tools: ChatTool[]
  chatTemplateKwargs: Record<string, unknown>
} {
  const request = server.requests.findLast(
    (entry) => entry.path === '/tokenize' && Array.isArray((entry.body as { tools?: unknown }).tools),
  )
  const body = request?.body as { tools: ChatTool[]; chat_template_kwargs?: Record<string, unknown> }
  return { tools: body.tools, chatTemplateKwargs: body.chat_template_kwargs ?? {} }
}

/**
 * What the chat template renders for the messages that came after the reply of `messages[replyIndex]`, when the
 * whole conversation up to `messages[nextReplyIndex]` is rendered from scratch (the generation prompt
 * included): the ids after the end-of-turn token that closes that reply. A reply that ended without one
 * (cut by `max_tokens`) gets it in front, as token-in mode closes such a turn.
 */
export function templateTail(
  tokenizer: Qwen3Tokenizer,
  messages: readonly Message[],
  replyIndex: number,
  nextReplyIndex: number,
  settings: { tools: ChatTool[]; chatTemplateKwargs: Record<string, unknown>; replyClosed: boolean },
): number[] {
  const render = { tools: settings.tools, chatTemplateKwargs: settings.chatTemplateKwargs }
  const upToReply = formatChatMessages(messages.slice(0, replyIndex + 1), SYSTEM_PROMPT)
  const whole = formatChatMessages(messages.slice(0, nextReplyIndex), SYSTEM_PROMPT)
  const closes = tokenizer
    .encodeChat(upToReply, { ...render, addGenerationPrompt: false })
    .filter((id) => id === IM_END).length
  const full = tokenizer.encodeChat(whole, { ...render, addGenerationPrompt: true })
  let seen = 0
  const position = full.findIndex((id) => id === IM_END && ++seen === closes)
  const tail = full.slice(position + 1)
  return settings.replyClosed ? tail : [IM_END, ...tail]
}

/** Positions of the assistant messages that carry a record, in call order. */
export function replyPositions(messages: readonly Message[]): number[] {
  const positions: number[] = []
  messages.forEach((message, index) => {
    if (message.role === 'assistant' && message.metadata?.custom?.vllm !== undefined) positions.push(index)
  })
  return positions
}
