import { isPlainObject } from '@vllm-tito/spec'
import type { ChoiceState } from './choice-state'
import { type LogprobEntry, readChatLogprobs, readCompletionLogprobs } from './logprob-entries'
import type { ResponseSettings } from './response-settings'
import { MalformedResponseError } from './wire-errors'
import { isIndex, readOptionalTokenIds, readTokenIds } from './wire-values'

/**
 * Reads one wire choice (of a stream chunk or of a non-streaming body) into its {@link ChoiceState}. The ids
 * and logprobs are checked before anything of the choice is kept, so a malformed choice adds nothing.
 * Returns the choice's `finish_reason` when it carries one, for the caller to close the choice with.
 */
export type ChoiceReader = (
  choice: Record<string, unknown>,
  field: string,
  state: ChoiceState,
  settings: ResponseSettings,
) => string | null

/** A chat choice: `delta` in a stream chunk, the whole `message` in a non-streaming body. */
export const readChatChoice: ChoiceReader = (choice, field, state, settings) => {
  const ids = readOptionalTokenIds(choice.token_ids, `${field}.token_ids`)
  const entries = readLogprobs(choice, field, settings)
  const message = isPlainObject(choice.delta)
    ? choice.delta
    : isPlainObject(choice.message)
      ? choice.message
      : null
  if (message !== null) {
    // newer vLLM names it `reasoning`, 0.10–0.11 `reasoning_content`; some versions send both. It comes
    // before the text, as it was generated: a whole message then gives its events in stream order
    const reasoning =
      typeof message.reasoning === 'string'
        ? message.reasoning
        : typeof message.reasoning_content === 'string'
          ? message.reasoning_content
          : null
    if (reasoning !== null) state.addReasoning(reasoning)
    if (typeof message.content === 'string') state.addText(message.content)
    if (Array.isArray(message.tool_calls)) readToolCalls(message.tool_calls, `${field}.tool_calls`, state)
  }
  state.addTokens(ids, entries)
  return finishReasonOf(choice)
}

/** A completions choice: `text`, and this choice's own `prompt_token_ids` on its first chunk. */
export const readCompletionChoice: ChoiceReader = (choice, field, state, settings) => {
  const ids = readOptionalTokenIds(choice.token_ids, `${field}.token_ids`)
  const entries = readLogprobs(choice, field, settings)
  if (choice.prompt_token_ids !== undefined && state.promptTokenIds === null) {
    state.promptTokenIds = readTokenIds(choice.prompt_token_ids, `${field}.prompt_token_ids`)
  }
  if (typeof choice.text === 'string') state.addText(choice.text)
  state.addTokens(ids, entries)
  return finishReasonOf(choice)
}

function readToolCalls(toolCalls: unknown[], field: string, state: ChoiceState): void {
  for (let position = 0; position < toolCalls.length; position += 1) {
    const delta: unknown = toolCalls[position]
    if (!isPlainObject(delta)) throw new MalformedResponseError(`${field}[${position}] is not an object`)
    const fn = isPlainObject(delta.function) ? delta.function : null
    state.addToolCallFragment({
      // stream deltas carry `index`; a non-streaming message lists its calls in order without one
      index: isIndex(delta.index) ? delta.index : position,
      id: typeof delta.id === 'string' ? delta.id : undefined,
      name: fn !== null && typeof fn.name === 'string' && fn.name.length > 0 ? fn.name : undefined,
      argumentsDelta: fn !== null && typeof fn.arguments === 'string' ? fn.arguments : '',
    })
  }
}

function readLogprobs(
  choice: Record<string, unknown>,
  field: string,
  settings: ResponseSettings,
): LogprobEntry[] | null {
  if (!settings.logprobsRequested) return null
  const read = settings.kind === 'chat' ? readChatLogprobs : readCompletionLogprobs
  return read(choice.logprobs, settings.tokensAsTokenIds, `${field}.logprobs`)
}

function finishReasonOf(choice: Record<string, unknown>): string | null {
  return typeof choice.finish_reason === 'string' ? choice.finish_reason : null
}
