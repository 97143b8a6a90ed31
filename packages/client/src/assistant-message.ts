import { type ChatMessage, type ChatToolCall, isPlainObject, type TokenRecord } from '@vllm-tito/spec'

/** One assistant turn as vLLM's parsers returned it, before it is sent back in the next request. */
export interface AssistantTurn {
  /** The turn's text (`content`), exactly as the server returned it. */
  text: string
  /** The turn's reasoning, or `null` when it had none. */
  reasoning: string | null
  /** The turn's tool calls in wire format, arguments as the raw string to send. Empty when none. */
  toolCalls: readonly ChatToolCall[]
}

/**
 * The assistant message to send back for one turn, so that the next prompt renders what the model produced
 * (and so starts with the previous prompt plus the sampled ids):
 * - reasoning goes back under both names: `reasoning`, the only one vLLM reads since vllm-project/vllm#33402,
 *   and `reasoning_content`, for servers and proxies that still read the old name (vLLM ≥ vllm-project/vllm#42664
 *   also renames it); vLLM hands it to the chat template, which decides whether to render it;
 * - hermes-style templates (Qwen2.5, Qwen3, NousResearch Hermes) render a turn as
 *   `[<think>\n{reasoning}\n</think>\n\n]{content}[\n<tool_call>…]`: they write the newlines after `</think>`
 *   and the one before each `<tool_call>` themselves, while vLLM's reasoning and hermes parsers leave the
 *   model's copies of them in `content`. Sent verbatim they would be rendered twice, so exactly those copies
 *   are removed: leading newlines when the turn has reasoning, one trailing newline when it calls tools;
 * - tool calls are sent as given, and only when there are any.
 */
export function formatAssistantTurn(turn: AssistantTurn): ChatMessage {
  const hasReasoning = turn.reasoning !== null
  const hasToolCalls = turn.toolCalls.length > 0
  let content = hasReasoning ? turn.text.replace(/^\n+/, '') : turn.text
  if (hasToolCalls && content.endsWith('\n')) content = content.slice(0, -1)
  const message: ChatMessage = { role: 'assistant', content }
  if (turn.reasoning !== null) {
    message.reasoning = turn.reasoning
    message.reasoning_content = turn.reasoning
  }
  if (hasToolCalls) message.tool_calls = [...turn.toolCalls]
  return message
}

/**
 * The assistant message to append to `messages` after a call, in a hand-written tool loop: the record's text,
 * its reasoning and its tool calls with the arguments string the model produced (see
 * {@link formatAssistantTurn}). Sending `record.text` alone loses the reasoning and the tool calls, and the
 * next prompt no longer extends this one, so the trajectory builder cannot merge the turns.
 *
 * A call without a server id gets `call-<index>`; answer it with a tool message whose `tool_call_id` is the
 * id in the returned message. Arguments that are not a JSON object (the model's malformed JSON) are sent as
 * `{}`: vLLM before vllm-project/vllm#48922 answers 400 to them on every later call, later versions render
 * them as `{}` anyway. The record keeps the raw text, and the trajectory builder reports the difference.
 */
export function toAssistantMessage(record: TokenRecord): ChatMessage {
  return formatAssistantTurn({
    text: record.text,
    reasoning: record.reasoning,
    toolCalls: record.toolCalls.map((call) => ({
      id: call.id ?? `call-${call.index}`,
      type: 'function',
      function: { name: call.name, arguments: replayableArguments(call.arguments) },
    })),
  })
}

/** What every vLLM renders for arguments that are not a JSON object, and what none of them refuses. */
const EMPTY_ARGUMENTS = '{}'

/** The raw arguments when they are a JSON object, `{}` otherwise. */
function replayableArguments(raw: string): string {
  try {
    return isPlainObject(JSON.parse(raw)) ? raw : EMPTY_ARGUMENTS
  } catch {
    return EMPTY_ARGUMENTS
  }
}
