import { type Message, ReasoningBlock, TextBlock, ToolUseBlock } from '@strands-agents/sdk'
import type { TokenInRenderReason } from '@vllm-tito/spec'
import type { ParsedReply } from './parse-reply'

/** What the kept token sequence stands for, after a successful call. */
export interface KeptConversation {
  /** The system prompt, tools and template arguments the sequence was rendered with. */
  settings: PromptSettings
  /** One key per conversation message the call was given ({@link messageKey}). */
  messageKeys: string[]
  /** The key the model's reply has once the SDK aggregated it into a message. */
  replyKey: string
  /** The call's prompt ids followed by its response ids. */
  ids: number[]
  /** The reply's tool-call names by call id. */
  toolNames: Map<string, string>
  /** `max_model_len` as the server reported it, or `null`. */
  maxModelLen: number | null
}

/** What, besides the messages, decides how a prompt renders; each part as JSON. */
export interface PromptSettings {
  system: string
  tools: string
  templateArguments: string
}

/** Whether a call can append to the kept sequence, and if not, why. */
export type HistoryMatch =
  | { kind: 'append'; newMessages: Message[] }
  | { kind: 'render'; reason: TokenInRenderReason; detail: string | null }

/** A message's role and content as JSON (metadata and tracking ids left out): equal keys, same message. */
export function messageKey(message: Message): string {
  return JSON.stringify({ role: message.role, content: message.content })
}

/**
 * The key of the assistant message the SDK builds from a reply's events: a reasoning block (when there is
 * reasoning text), the text (dropped when it is only whitespace, as the SDK drops it), then one tool-use block
 * per call with its parsed input.
 */
export function replyKey(
  reply: ParsedReply,
  toolCalls: ReadonlyArray<{ id: string; name: string; inputJson: string }>,
): string {
  const content = []
  if (reply.reasoning) content.push(new ReasoningBlock({ text: reply.reasoning }))
  if (reply.content.trim() !== '') content.push(new TextBlock(reply.content))
  for (const call of toolCalls) {
    content.push(new ToolUseBlock({ name: call.name, toolUseId: call.id, input: JSON.parse(call.inputJson) }))
  }
  return JSON.stringify({ role: 'assistant', content })
}

/**
 * Compares the conversation of a call with the kept one. It can be appended to only when it starts with the
 * messages the kept ids stand for, then the model's own reply unchanged, then new non-assistant messages, all
 * rendered with the same settings; otherwise the reason to render from scratch. `keys`: the messages' keys,
 * when the caller has them already.
 */
export function matchHistory(
  kept: KeptConversation | undefined,
  messages: readonly Message[],
  settings: PromptSettings,
  keys: readonly string[] = messages.map(messageKey),
): HistoryMatch {
  if (kept === undefined) return { kind: 'render', reason: 'first-call', detail: null }
  const changed = changedSettings(kept.settings, settings)
  if (changed.length > 0) {
    return { kind: 'render', reason: 'settings-changed', detail: `the ${changed.join(', ')} changed` }
  }
  const keptCount = kept.messageKeys.length
  if (messages.length <= keptCount) {
    return render(
      'history-changed',
      `the conversation has ${messages.length} message(s); the kept sequence stands for ${keptCount} and the reply`,
    )
  }
  for (let index = 0; index < keptCount; index += 1) {
    if (keys[index] !== kept.messageKeys[index]) {
      return render('history-changed', `message ${index} differs from the one the kept sequence holds`)
    }
  }
  if (keys[keptCount] !== kept.replyKey) {
    return render('reply-changed', `message ${keptCount} is not the reply the model produced`)
  }
  const newMessages = messages.slice(keptCount + 1)
  if (newMessages.length === 0) return render('history-changed', 'no new message follows the reply')
  const assistant = newMessages.findIndex((message) => message.role === 'assistant')
  if (assistant >= 0) {
    return render(
      'history-changed',
      `message ${keptCount + 1 + assistant} is an assistant message the model did not generate`,
    )
  }
  return { kind: 'append', newMessages }
}

function render(reason: TokenInRenderReason, detail: string): HistoryMatch {
  return { kind: 'render', reason, detail }
}

function changedSettings(kept: PromptSettings, current: PromptSettings): string[] {
  const changed: string[] = []
  if (kept.system !== current.system) changed.push('system prompt')
  if (kept.tools !== current.tools) changed.push('tools')
  if (kept.templateArguments !== current.templateArguments) changed.push('chat_template_kwargs')
  return changed
}
