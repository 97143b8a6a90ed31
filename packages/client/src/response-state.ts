import { type FinishReason, isPlainObject, type TokenUsage } from '@vllm-tito/spec'
import { type ChoiceReader, readChatChoice, readCompletionChoice } from './choice-readers'
import { ChoiceState } from './choice-state'
import type { EventBatch } from './event-batch'
import { correctFinishReason } from './finish-reason'
import type { ResponseSettings } from './response-settings'
import { MalformedResponseError, readErrorInfo, ServerErrorPayload } from './wire-errors'
import { isIndex, readTokenIds, readUsage } from './wire-values'

/**
 * Everything received for one response, read chunk by chunk (or from one non-streaming body, read as a single
 * chunk): the response id and model, chat's prompt ids (top level, first chunk), `usage` (the trailing
 * `choices: []` chunk, or cumulative with `continuous_usage_stats`), and one {@link ChoiceState} per choice,
 * kept apart by `index` for `n > 1` and batch prompts. Pushes the events of each chunk to `events` when given.
 */
export class ResponseState {
  /** How to read this response. */
  readonly settings: ResponseSettings
  /** `id` of the first chunk, `null` until one arrived. */
  responseId: string | null = null
  /** `model` of the first chunk, `null` until one arrived. */
  model: string | null = null
  /** Chat only: the top-level `prompt_token_ids` of the first chunk that had them. */
  promptTokenIds: number[] | null = null
  /** The latest `usage`, `null` until one arrived. */
  usage: TokenUsage | null = null
  /** Whether any chunk arrived. */
  started = false

  readonly #choices: ChoiceState[] = []
  readonly #events: EventBatch | null
  readonly #readChoice: ChoiceReader

  constructor(settings: ResponseSettings, events: EventBatch | null = null) {
    this.settings = settings
    this.#events = events
    this.#readChoice = settings.kind === 'chat' ? readChatChoice : readCompletionChoice
  }

  /** The choices seen so far, in index order. */
  get choices(): ChoiceState[] {
    // the array is indexed by choice index: the indexes never seen are holes, which Object.values skips
    return Object.values(this.#choices)
  }

  /**
   * Reads one parsed chunk or body. Throws {@link ServerErrorPayload} for a `{"error": …}` payload and
   * {@link MalformedResponseError} (naming the field) for anything vLLM would not send.
   */
  apply(chunk: unknown): void {
    if (!isPlainObject(chunk)) throw new MalformedResponseError('a chunk is not a JSON object')
    if (chunk.error !== undefined && chunk.error !== null) {
      const info = readErrorInfo(chunk)
      throw new ServerErrorPayload(info?.message ?? 'unknown server error', info ?? {})
    }
    const choices = chunk.choices
    if (!Array.isArray(choices)) throw new MalformedResponseError('`choices` is not an array')
    // read first, applied last: the usage of a chunk counts its own tokens, so the finish reason sees it
    const usage = chunk.usage === undefined || chunk.usage === null ? null : readUsage(chunk.usage)
    if (
      this.settings.kind === 'chat' &&
      chunk.prompt_token_ids !== undefined &&
      this.promptTokenIds === null
    ) {
      this.promptTokenIds = readTokenIds(chunk.prompt_token_ids, 'prompt_token_ids')
    }
    if (!this.started) this.#start(chunk, choices)
    if (usage !== null) this.usage = usage
    for (let position = 0; position < choices.length; position += 1) {
      const choice: unknown = choices[position]
      if (!isPlainObject(choice)) throw new MalformedResponseError(`choices[${position}] is not an object`)
      const state = this.#choiceAt(choice.index, position)
      const finishReason = this.#readChoice(choice, `choices[${position}]`, state, this.settings)
      if (finishReason !== null) this.#finish(state, finishReason, choice.stop_reason)
    }
    if (usage !== null) this.#events?.push({ type: 'usage', usage })
  }

  /**
   * How many tokens the engine generated for `choice`, as far as known now: `usage.completion_tokens` when the
   * response has a single choice and usage arrived (vLLM 0.10.2–0.11 dropped parser-swallowed ids, and ids may
   * not be requested at all, so ids alone can undercount), otherwise the ids received for the choice.
   */
  generatedTokens(choice: ChoiceState): number | null {
    if (this.settings.choiceCount === 1 && this.usage !== null) return this.usage.completionTokens
    return choice.tokenIds?.length ?? null
  }

  /** The finish reason to report for `choice` with what is known now, `null` before its finish chunk. */
  finishReasonOf(choice: ChoiceState): FinishReason | null {
    if (choice.reportedFinishReason === null) return null
    return correctFinishReason({
      reported: choice.reportedFinishReason,
      maxTokens: this.settings.maxTokens,
      generatedTokens: this.generatedTokens(choice),
      lastToolArguments: choice.lastToolArguments,
    })
  }

  #start(chunk: Record<string, unknown>, choices: unknown[]): void {
    this.started = true
    if (typeof chunk.id === 'string') this.responseId = chunk.id
    if (typeof chunk.model === 'string') this.model = chunk.model
    this.#events?.push({
      type: 'response-start',
      responseId: this.responseId ?? '',
      model: this.model ?? this.settings.requestedModel ?? '',
      promptTokenIds: this.settings.kind === 'chat' ? this.promptTokenIds : firstChoicePromptIds(choices),
    })
  }

  #finish(choice: ChoiceState, reported: string, stopReason: unknown): void {
    choice.finish(reported, stopReason)
    this.#events?.push({
      type: 'choice-end',
      choiceIndex: choice.index,
      finishReason: this.finishReasonOf(choice)!,
      stopReason: choice.stopReason,
    })
  }

  #choiceAt(index: unknown, position: number): ChoiceState {
    // vLLM always sends `index`; a missing one is read as the position
    const choiceIndex = index === undefined ? position : index
    if (!isIndex(choiceIndex)) {
      throw new MalformedResponseError(`choices[${position}].index is not a non-negative integer`)
    }
    let state = this.#choices[choiceIndex]
    if (state === undefined) {
      state = new ChoiceState(choiceIndex, this.settings, this.#events)
      this.#choices[choiceIndex] = state
    }
    return state
  }
}

/** Completions put prompt ids per choice: the `response-start` event carries choice 0's. */
function firstChoicePromptIds(choices: unknown[]): number[] | null {
  const first: unknown = choices[0]
  if (!isPlainObject(first) || (first.index !== undefined && first.index !== 0)) return null
  return first.prompt_token_ids === undefined
    ? null
    : readTokenIds(first.prompt_token_ids, 'choices[0].prompt_token_ids')
}
