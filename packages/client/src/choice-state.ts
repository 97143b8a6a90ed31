import type { ToolCallDeltaEvent, TopLogprob } from '@vllm-tito/spec'
import type { EventBatch } from './event-batch'
import { type LogprobEntry, parseTokenIdString } from './logprob-entries'
import type { ResponseSettings } from './response-settings'

/** One tool call of a choice, as assembled from its fragments. */
export interface ToolCallState {
  /** `tool_calls[].index`. */
  index: number
  /** The call id of the first fragment that had one, `null` until then. */
  id: string | null
  /** The first non-empty function name, `''` until then. */
  name: string
  /** Every arguments fragment concatenated, as sent. */
  arguments: string
}

/** One fragment of a tool call, read from the wire. */
export interface ToolCallFragment {
  /** Which call of the choice it belongs to. */
  index: number
  /** The call id, when this fragment carries one. */
  id: string | undefined
  /** The function name, when this fragment carries a non-empty one. */
  name: string | undefined
  /** The arguments text of this fragment (`''` when none). */
  argumentsDelta: string
}

/**
 * Everything received for one choice of a response: text, reasoning, tool calls, token ids with their aligned
 * logprobs, and the finish. Streamed chunks and a non-streaming body feed it the same way, so both give the
 * same record and the same events; each method pushes the events of what it added to the stream's batch.
 */
export class ChoiceState {
  /** `choices[].index`. */
  readonly index: number
  /** Completions only: this choice's prompt ids (chat prompt ids belong to the response). */
  promptTokenIds: number[] | null = null
  /** Completion ids concatenated over every chunk, `null` until a chunk carried some. */
  tokenIds: number[] | null = null
  /** Sampled-token logprobs in id order, `null` until a chunk carried some. */
  logprobs: Array<number | null> | null = null
  /** Alternatives per position, when requested. */
  topLogprobs: TopLogprob[][] | null = null
  /** A chunk's logprobs could not be lined up with its ids (or disagreed with them). */
  logprobsMisaligned = false
  /** Disagreements between ids and `token_id:N` logprob tokens, worded for the verification. */
  readonly logprobDisagreements: string[] = []
  /** Assistant text (`content` / completion `text`). */
  text = ''
  /** Reasoning text, `null` until some arrived. */
  reasoning: string | null = null
  /** Tool calls in arrival order (sorted by index when the record is built). */
  readonly toolCalls: ToolCallState[] = []
  /** `finish_reason` as the server sent it, `null` until the finish chunk. */
  reportedFinishReason: string | null = null
  /** `stop_reason` of the finish chunk. */
  stopReason: number | string | null = null

  readonly #settings: ResponseSettings
  readonly #events: EventBatch | null

  constructor(index: number, settings: ResponseSettings, events: EventBatch | null) {
    this.index = index
    this.#settings = settings
    this.#events = events
  }

  /** Appends assistant text; empty text changes nothing. */
  addText(text: string): void {
    if (text.length === 0) return
    this.text += text
    this.#events?.push({ type: 'text-delta', choiceIndex: this.index, text })
  }

  /** Appends reasoning text; even an empty piece marks the choice as one with reasoning. */
  addReasoning(text: string): void {
    this.reasoning = (this.reasoning ?? '') + text
    if (text.length > 0) this.#events?.push({ type: 'reasoning-delta', choiceIndex: this.index, text })
  }

  /** Merges a tool-call fragment by index: the first id and name stay, arguments are concatenated. */
  addToolCallFragment(fragment: ToolCallFragment): void {
    let call = this.toolCalls.find((existing) => existing.index === fragment.index)
    if (call === undefined) {
      call = { index: fragment.index, id: null, name: '', arguments: '' }
      this.toolCalls.push(call)
    }
    const newId = fragment.id !== undefined && fragment.id.length > 0 && call.id === null ? fragment.id : null
    if (newId !== null) call.id = newId
    // `"name": null` on later fragments (tool_choice "required", v0.10–0.11) and repeated names are ignored
    const newName = fragment.name !== undefined && call.name === '' ? fragment.name : null
    if (newName !== null) call.name = newName
    call.arguments += fragment.argumentsDelta
    if (this.#events === null) return
    const event: ToolCallDeltaEvent = {
      type: 'tool-call-delta',
      choiceIndex: this.index,
      toolCallIndex: fragment.index,
      argumentsDelta: fragment.argumentsDelta,
    }
    if (newId !== null) event.id = newId
    if (newName !== null) event.name = newName
    this.#events.push(event)
  }

  /**
   * Appends a chunk's ids with their logprob entries (`null`: none sent). Ids without logprobs get explicit
   * `null` logprobs, never a guess; entries that do not line up with the ids mark the choice misaligned.
   */
  addTokens(ids: number[] | null, entries: LogprobEntry[] | null): void {
    if (ids === null) {
      // ids not sent (not requested, or an old server): keep the logprobs of the sampled tokens anyway
      if (entries !== null) this.#appendLogprobs(entries)
      return
    }
    if (this.tokenIds === null) this.tokenIds = []
    const target = this.tokenIds
    for (let position = 0; position < ids.length; position += 1) target.push(ids[position]!)
    if (ids.length === 0) return
    const aligned = this.#alignLogprobs(ids, entries)
    this.#events?.push({
      type: 'token-delta',
      choiceIndex: this.index,
      tokenIds: ids,
      logprobs: aligned === null ? null : aligned.map((entry) => entry.logprob),
      topLogprobs:
        aligned === null || !this.#settings.topLogprobsRequested ? null : aligned.map((entry) => entry.top),
    })
  }

  /** Records the finish chunk's reasons; `reported` is kept as sent (see `ResponseState.finishReasonOf`). */
  finish(reported: string, stopReason: unknown): void {
    this.reportedFinishReason = reported
    this.stopReason = typeof stopReason === 'number' || typeof stopReason === 'string' ? stopReason : null
  }

  /** The raw arguments of the last tool call, `null` when the choice made none. */
  get lastToolArguments(): string | null {
    return this.toolCalls.at(-1)?.arguments ?? null
  }

  /** Whether the logprobs line up 1:1 with the ids, so a record may carry them. */
  get logprobsAligned(): boolean {
    // logprobs of chunks that carried no ids (a proxy stripping `token_ids`) cannot be placed: the lengths
    // then differ, and a shifted list must never pass for an aligned one
    return (
      this.#settings.logprobsRequested &&
      !this.logprobsMisaligned &&
      (this.tokenIds === null || this.tokenIds.length === (this.logprobs?.length ?? 0))
    )
  }

  /** The entries kept for `ids`, or `null` when logprobs were not requested or do not line up. */
  #alignLogprobs(ids: number[], chunkEntries: LogprobEntry[] | null): LogprobEntry[] | null {
    if (!this.#settings.logprobsRequested) return null
    // ids without logprobs (e.g. a parser-swallowed `delta: {}` frame): explicit nulls
    const entries = chunkEntries ?? ids.map(() => ({ token: null, logprob: null, top: [] }))
    if (entries.length !== ids.length) {
      this.logprobsMisaligned = true
      return null
    }
    if (this.#settings.tokensAsTokenIds) this.#crossCheck(ids, entries)
    this.#appendLogprobs(entries)
    return entries
  }

  #crossCheck(ids: number[], entries: LogprobEntry[]): void {
    // Stryker disable next-line OptionalChaining: only called after `addTokens` appended the ids, so never null
    const firstPosition = (this.tokenIds?.length ?? 0) - ids.length
    for (let position = 0; position < ids.length; position += 1) {
      const token = entries[position]!.token
      if (token === null || parseTokenIdString(token) === ids[position]) continue
      this.logprobsMisaligned = true
      this.logprobDisagreements.push(
        `completion id ${ids[position]} at position ${firstPosition + position} disagrees with its logprob token ${JSON.stringify(token)}`,
      )
    }
  }

  #appendLogprobs(entries: LogprobEntry[]): void {
    if (this.logprobs === null) this.logprobs = []
    for (const entry of entries) this.logprobs.push(entry.logprob)
    if (!this.#settings.topLogprobsRequested) return
    if (this.topLogprobs === null) this.topLogprobs = []
    for (const entry of entries) this.topLogprobs.push(entry.top)
  }
}
