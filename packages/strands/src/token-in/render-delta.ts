import {
  type ChatMessage,
  type RenderedChatTemplate,
  startsWithIds,
  type TokenInSegment,
} from '@vllm-tito/spec'
import type { ChatTemplateShape } from './probe-chat-template'

/** Renders messages with the server's chat template (the call's tools and template arguments). */
export type ConversationRenderer = (
  messages: ChatMessage[],
  addGenerationPrompt: boolean,
) => Promise<RenderedChatTemplate>

/** What {@link renderDelta} needs. */
export interface DeltaRequest {
  render: ConversationRenderer
  shape: ChatTemplateShape
  /** The kept sequence: the previous call's prompt and response ids. */
  keptIds: readonly number[]
  /** The new messages after the model's reply, already in chat form (tool results, user turns). */
  newMessages: ChatMessage[]
  /** Names of the reply's tool calls by id, for the fixed prefix a tool result is rendered after. */
  toolNames: ReadonlyMap<string, string>
  /** Renders a fixed prefix (without the generation prompt); the caller may reuse earlier renders. */
  renderPrefix: (prefix: ChatMessage[]) => Promise<RenderedChatTemplate>
}

/** The ids to append after the kept sequence, with their segments (offsets relative to the appended ids). */
export interface AppendedIds {
  ids: number[]
  segments: TokenInSegment[]
  /** `max_model_len` the renders reported, or `null`. */
  maxModelLen: number | null
}

/** The delta, or why the template gives none (it re-renders the prefix around the new messages). */
export type DeltaResult =
  | { kind: 'appended'; appended: AppendedIds }
  | { kind: 'not-append-only'; detail: string }

const PREFIX_TEXT = 'token-in prefix'
const PREFIX_SYSTEM: ChatMessage = { role: 'system', content: PREFIX_TEXT }
const PREFIX_USER: ChatMessage = { role: 'user', content: PREFIX_TEXT }

/** One group's rendering: its messages up to their last end-of-turn token, and the generation prompt. */
interface GroupIds {
  roles: string[]
  messageIds: number[]
  generationPromptIds: number[]
  maxModelLen: number | null
}

/**
 * The template's own tokens for new messages: each group (a run of tool results, or one other message) is
 * rendered after a fixed prefix, with and without it, and the difference taken after the prefix's last
 * end-of-turn token; the rendered prefix must stay a prefix (asserted). The prefix starts with a system
 * message, so templates that inject a default system block do not. A tool group comes after the same prefix
 * as a user turn when the probe found that tool results render alike after a user turn and after their call
 * (Qwen's templates); otherwise after a prefix ending with an assistant turn that calls those tools and
 * carries a think block in its content (so Qwen3 renders it the same whether or not it is the last message,
 * and whatever reasoning field the server reads). Groups render in parallel; the last one with the
 * generation prompt.
 *
 * The result: a closing end-of-turn token when the kept sequence does not end with one (a reply cut by
 * `max_tokens`), then per group the template's separator and the messages, then the separator and the
 * generation prompt.
 */
export async function renderDelta(request: DeltaRequest): Promise<DeltaResult> {
  const { shape, keptIds } = request
  const groups = groupMessages(request.newMessages)
  const rendered = await Promise.all(
    groups.map((group, position) => renderGroup(request, group, position === groups.length - 1)),
  )
  const ids: number[] = []
  const segments: TokenInSegment[] = []
  const add = (kind: TokenInSegment['kind'], piece: readonly number[], roles: string[] = []) => {
    if (piece.length === 0) return
    segments.push({ kind, start: ids.length, end: ids.length + piece.length, roles })
    ids.push(...piece)
  }
  if (keptIds.at(-1) !== shape.endOfTurnId) add('closing', [shape.endOfTurnId])
  let maxModelLen: number | null = null
  for (const group of rendered) {
    if (typeof group === 'string') return { kind: 'not-append-only', detail: group }
    add('separator', shape.separatorIds)
    add('messages', group.messageIds, group.roles)
    maxModelLen ??= group.maxModelLen
  }
  const last = rendered.at(-1) as GroupIds
  add('separator', shape.separatorIds)
  add('generation-prompt', last.generationPromptIds)
  return { kind: 'appended', appended: { ids, segments, maxModelLen } }
}

/** Runs of consecutive tool results form one group (the template wraps them in one turn); others go alone. */
function groupMessages(messages: ChatMessage[]): ChatMessage[][] {
  const groups: ChatMessage[][] = []
  for (const message of messages) {
    const previous = groups.at(-1)
    if (message.role === 'tool' && previous?.[0]?.role === 'tool') previous.push(message)
    else groups.push([message])
  }
  return groups
}

/** The prefix user turns (and, when the template allows, tool results) are rendered after. */
export const FIXED_PREFIX: readonly ChatMessage[] = [PREFIX_SYSTEM, PREFIX_USER]

/** The fixed prefix a group is rendered after. */
function prefixFor(
  group: ChatMessage[],
  shape: ChatTemplateShape,
  toolNames: ReadonlyMap<string, string>,
): ChatMessage[] {
  if (group[0]?.role !== 'tool' || shape.toolResultsStandAlone) return [...FIXED_PREFIX]
  const caller: ChatMessage = {
    role: 'assistant',
    content: `<think>\n${PREFIX_TEXT}\n</think>\n\n`,
    tool_calls: group.map((message, position) => {
      const id = message.tool_call_id ?? `call-${position}`
      return { id, type: 'function', function: { name: toolNames.get(id) ?? 'tool', arguments: '{}' } }
    }),
  }
  return [PREFIX_SYSTEM, PREFIX_USER, caller]
}

/** A group's ids, or a sentence saying why the template gives no exact delta for it. */
async function renderGroup(
  request: DeltaRequest,
  group: ChatMessage[],
  isLast: boolean,
): Promise<GroupIds | string> {
  const { render, shape } = request
  const prefix = prefixFor(group, shape, request.toolNames)
  const [prefixed, full] = await Promise.all([
    request.renderPrefix(prefix),
    render([...prefix, ...group], isLast),
  ])
  const roles = group.map((message) => message.role)
  const what = `the ${roles.join(', ')} message${roles.length > 1 ? 's' : ''}`
  const cut = prefixed.tokenIds.lastIndexOf(shape.endOfTurnId) + 1
  if (cut === 0 || !startsWithIds(full.tokenIds, prefixed.tokenIds.slice(0, cut))) {
    return `rendering ${what} after a fixed prefix changes how the prefix renders`
  }
  const separator = shape.separatorIds
  const tail = full.tokenIds.slice(cut)
  const end = tail.lastIndexOf(shape.endOfTurnId) + 1
  if (!startsWithIds(tail, separator) || end <= separator.length) {
    return `${what} do not render as a separator and turns closed by the end-of-turn token`
  }
  const after = tail.slice(end)
  const generationPromptIds = after.slice(separator.length)
  if (!startsWithIds(after, separator) || isLast !== generationPromptIds.length > 0) {
    return `the template writes unexpected tokens after ${what}`
  }
  return {
    roles,
    messageIds: tail.slice(separator.length, end),
    generationPromptIds,
    maxModelLen: full.maxModelLen,
  }
}
