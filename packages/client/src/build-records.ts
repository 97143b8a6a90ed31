import {
  type RequestTiming,
  TOKEN_RECORD_SCHEMA_VERSION,
  type TokenRecord,
  type ToolCallRecord,
} from '@vllm-tito/spec'
import type { ChoiceState, ToolCallState } from './choice-state'
import type { ResponseState } from './response-state'
import { verifyTokenIds } from './verify-token-ids'

/** How the call that produced a response ended, for its records. */
export interface RecordsEnding {
  /** Client-side timing of the call. */
  timing: RequestTiming
  /** `false` when the call was interrupted: the records are then marked `incomplete`. */
  complete: boolean
  /** Why the call did not finish, worded for the verification issue; `null` when it did. */
  interruption?: string | null
}

/**
 * The records of a response, one per choice seen, in choice order, each verified against `usage`. With
 * `complete: false` they hold only what arrived and are marked `incomplete`.
 */
export function buildRecords(response: ResponseState, ending: RecordsEnding): TokenRecord[] {
  const choices = response.choices
  // usage counts every choice together, so the id counts compared with it are summed the same way
  let completionIdsCount: number | null = null
  for (const choice of choices) {
    if (choice.tokenIds !== null) completionIdsCount = (completionIdsCount ?? 0) + choice.tokenIds.length
  }
  const promptIdsCount =
    response.settings.kind === 'chat' ? (response.promptTokenIds?.length ?? null) : batchPromptCount(response)
  return choices.map((choice) => {
    const promptTokenIds = promptIdsOf(response, choice)
    const verification = verifyTokenIds({
      promptIds: promptTokenIds?.length ?? null,
      completionIds: choice.tokenIds?.length ?? null,
      promptIdsCount,
      completionIdsCount,
      usage: response.usage,
      complete: ending.complete,
      interruption: ending.interruption ?? null,
      idsNotRequested: response.settings.idsNotRequested,
      streaming: response.settings.streaming,
      logprobDisagreements: choice.logprobDisagreements,
    })
    const aligned = choice.logprobsAligned
    return {
      schemaVersion: TOKEN_RECORD_SCHEMA_VERSION,
      kind: response.settings.kind,
      responseId: response.responseId,
      model: response.model ?? response.settings.requestedModel,
      choiceIndex: choice.index,
      promptTokenIds: promptTokenIds === null ? null : promptTokenIds.slice(),
      tokenIds: choice.tokenIds,
      logprobs: aligned ? choice.logprobs : null,
      topLogprobs: aligned && response.settings.topLogprobsRequested ? choice.topLogprobs : null,
      finishReason: response.finishReasonOf(choice),
      stopReason: choice.stopReason,
      usage: response.usage === null ? null : { ...response.usage },
      verification,
      text: choice.text,
      reasoning: choice.reasoning,
      toolCalls: choice.toolCalls
        .slice()
        .sort((left, right) => left.index - right.index)
        .map(toToolCallRecord),
      timing: ending.timing,
      complete: ending.complete,
    }
  })
}

/** Chat prompt ids belong to the response; completions prompt ids to each choice. */
function promptIdsOf(response: ResponseState, choice: ChoiceState): number[] | null {
  return response.settings.kind === 'chat' ? response.promptTokenIds : choice.promptTokenIds
}

/** Prompt ids summed once per prompt (choice `i` belongs to prompt `floor(i / n)`), as vLLM sums usage. */
function batchPromptCount(response: ResponseState): number | null {
  const perPrompt = Math.max(1, response.settings.choicesPerPrompt)
  const counted = new Map<number, number>()
  for (const choice of response.choices) {
    const prompt = Math.floor(choice.index / perPrompt)
    if (choice.promptTokenIds !== null && !counted.has(prompt))
      counted.set(prompt, choice.promptTokenIds.length)
  }
  if (counted.size === 0) return null
  let total = 0
  for (const count of counted.values()) total += count
  return total
}

function toToolCallRecord(call: ToolCallState): ToolCallRecord {
  // hermes drops the `{}` of parameterless tools (vllm-project/vllm#28806)
  return {
    index: call.index,
    id: call.id,
    name: call.name,
    arguments: call.arguments === '' ? '{}' : call.arguments,
  }
}
