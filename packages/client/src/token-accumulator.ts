import {
  type FinishReason,
  type RequestTiming,
  TOKEN_RECORD_SCHEMA_VERSION,
  type TokenRecord,
  type TokenStreamEvent,
  type TokenUsage,
  type ToolCallDeltaEvent,
  type ToolCallRecord,
  type TopLogprob,
} from '@vllm-tito/spec'
import {
  type LogprobEntry,
  parseTokenIdString,
  readChatLogprobs,
  readCompletionLogprobs,
} from './logprob-entries'
import { verifyTokenIds } from './verify-token-ids'
import { isRecord, MalformedResponseError, readErrorInfo, ServerErrorPayload } from './wire-errors'

/** What the accumulator needs to know about the request it reads the answer of. */
export interface AccumulatorSettings {
  /** `chat` (`/v1/chat/completions`) or `completion` (`/v1/completions`). */
  kind: 'chat' | 'completion'
  /** Whether the body is an SSE stream of chunks (`true`) or one JSON body. */
  streaming: boolean
  /** The requested model, used when no chunk named one. */
  requestedModel: string | null
  /** Whether the request asked for logprobs (chat `logprobs: true`, completions `logprobs: k`). */
  logprobsRequested: boolean
  /** Whether the request asked for alternatives (chat `top_logprobs > 0`, completions `logprobs > 0`). */
  topLogprobsRequested: boolean
  /** `return_tokens_as_token_ids`: logprob tokens read `token_id:N` and are cross-checked with the ids. */
  tokensAsTokenIds: boolean
  /** `return_token_ids: false` was sent, so missing ids are expected. */
  idsNotRequested: boolean
  /** `max_tokens` of the request, for vLLM 0.10.2's `tool_calls`-on-`length` quirk. */
  maxTokens: number | null
  /** `n`: choices per prompt (completion choice `i` belongs to prompt `floor(i / n)`). */
  choicesPerPrompt: number
}

interface ToolCallState {
  index: number
  id: string | null
  name: string
  arguments: string
}

interface ChoiceState {
  index: number
  promptTokenIds: number[] | null
  tokenIds: number[] | null
  logprobs: Array<number | null> | null
  topLogprobs: TopLogprob[][] | null
  /** Logprobs were requested but a chunk's logprobs could not be lined up with its ids. */
  logprobsMisaligned: boolean
  logprobDisagreements: string[]
  text: string
  reasoning: string | null
  toolCalls: ToolCallState[]
  finishReason: FinishReason | null
  stopReason: number | string | null
}

/**
 * Builds {@link TokenRecord}s from vLLM's raw chunks (or one non-streaming body, read as a single chunk):
 * prompt ids from the first chunk (chat: top level; completions: per choice), completion ids concatenated
 * from every chunk that has them (including `delta: {}` frames and the finish chunk), logprobs aligned 1:1
 * with the ids, tool calls merged by `index`, reasoning from `reasoning` or `reasoning_content`, usage from
 * the trailing `choices: []` chunk, and choices kept apart by `index` for `n > 1`.
 */
export class TokenAccumulator {
  readonly #settings: AccumulatorSettings
  readonly #choices: ChoiceState[] = []
  #responseId: string | null = null
  #model: string | null = null
  #promptTokenIds: number[] | null = null
  #usage: TokenUsage | null = null
  #started = false

  constructor(settings: AccumulatorSettings) {
    this.#settings = settings
  }

  /** Whether any chunk arrived. */
  get started(): boolean {
    return this.#started
  }

  /**
   * Reads one parsed chunk (or body). Appends the events it produces to `events` unless `events` is `null`
   * (nobody iterates, so no event objects are built). Throws {@link ServerErrorPayload} for a
   * `{"error": …}` payload and {@link MalformedResponseError} for anything vLLM would not send.
   */
  apply(chunk: unknown, events: TokenStreamEvent[] | null): void {
    if (!isRecord(chunk)) throw new MalformedResponseError('a chunk is not a JSON object')
    if (chunk.error !== undefined && chunk.error !== null) {
      const info = readErrorInfo(chunk)
      throw new ServerErrorPayload(info?.message ?? 'unknown server error', info ?? {})
    }
    const choices = chunk.choices
    if (!Array.isArray(choices)) throw new MalformedResponseError('`choices` is not an array')
    const chat = this.#settings.kind === 'chat'
    if (chat && chunk.prompt_token_ids !== undefined && this.#promptTokenIds === null) {
      this.#promptTokenIds = readIds(chunk.prompt_token_ids, 'prompt_token_ids')
    }
    if (!this.#started) {
      this.#started = true
      if (typeof chunk.id === 'string') this.#responseId = chunk.id
      if (typeof chunk.model === 'string') this.#model = chunk.model
      if (events !== null) {
        events.push({
          type: 'response-start',
          responseId: this.#responseId ?? '',
          model: this.#model ?? this.#settings.requestedModel ?? '',
          promptTokenIds: chat ? this.#promptTokenIds : firstChoicePromptIds(choices),
        })
      }
    }
    for (let position = 0; position < choices.length; position += 1) {
      const choice: unknown = choices[position]
      if (!isRecord(choice)) throw new MalformedResponseError(`choices[${position}] is not an object`)
      if (chat) this.#applyChatChoice(choice, position, events)
      else this.#applyCompletionChoice(choice, position, events)
    }
    if (chunk.usage !== undefined && chunk.usage !== null) {
      this.#usage = readUsage(chunk.usage)
      if (events !== null) events.push({ type: 'usage', usage: this.#usage })
    }
  }

  #applyChatChoice(choice: Record<string, unknown>, position: number, events: TokenStreamEvent[] | null) {
    const state = this.#choiceState(choice.index, position)
    const field = `choices[${position}]`
    // ids are checked before anything of the chunk is kept, so a malformed chunk adds nothing
    const ids = choice.token_ids === undefined ? null : readIds(choice.token_ids, `${field}.token_ids`)
    const entries = this.#readLogprobs(choice, field)
    // a stream chunk carries `delta`; a non-streaming body carries the whole `message`
    const delta = isRecord(choice.delta) ? choice.delta : isRecord(choice.message) ? choice.message : null
    if (delta !== null) {
      const content = delta.content
      if (typeof content === 'string' && content.length > 0) {
        state.text += content
        if (events !== null) events.push({ type: 'text-delta', choiceIndex: state.index, text: content })
      }
      // newer vLLM names it `reasoning`, 0.10–0.11 `reasoning_content`; some versions send both
      const reasoning =
        typeof delta.reasoning === 'string'
          ? delta.reasoning
          : typeof delta.reasoning_content === 'string'
            ? delta.reasoning_content
            : null
      if (reasoning !== null) {
        state.reasoning = (state.reasoning ?? '') + reasoning
        if (events !== null && reasoning.length > 0) {
          events.push({ type: 'reasoning-delta', choiceIndex: state.index, text: reasoning })
        }
      }
      if (Array.isArray(delta.tool_calls)) this.#applyToolCalls(state, delta.tool_calls, field, events)
    }
    this.#applyTokenIds(state, ids, entries, events)
    this.#applyFinish(state, choice, events)
  }

  #applyCompletionChoice(
    choice: Record<string, unknown>,
    position: number,
    events: TokenStreamEvent[] | null,
  ) {
    const state = this.#choiceState(choice.index, position)
    const field = `choices[${position}]`
    const ids = choice.token_ids === undefined ? null : readIds(choice.token_ids, `${field}.token_ids`)
    const entries = this.#readLogprobs(choice, field)
    if (choice.prompt_token_ids !== undefined && state.promptTokenIds === null) {
      state.promptTokenIds = readIds(choice.prompt_token_ids, `${field}.prompt_token_ids`)
    }
    const text = choice.text
    if (typeof text === 'string' && text.length > 0) {
      state.text += text
      if (events !== null) events.push({ type: 'text-delta', choiceIndex: state.index, text })
    }
    this.#applyTokenIds(state, ids, entries, events)
    this.#applyFinish(state, choice, events)
  }

  #applyToolCalls(
    state: ChoiceState,
    toolCalls: unknown[],
    field: string,
    events: TokenStreamEvent[] | null,
  ) {
    for (let position = 0; position < toolCalls.length; position += 1) {
      const delta: unknown = toolCalls[position]
      if (!isRecord(delta))
        throw new MalformedResponseError(`${field}.tool_calls[${position}] is not an object`)
      // stream deltas carry `index`; a non-streaming message lists calls in order without one
      const index = isIndex(delta.index) ? delta.index : position
      let call = state.toolCalls.find((existing) => existing.index === index)
      if (call === undefined) {
        call = { index, id: null, name: '', arguments: '' }
        state.toolCalls.push(call)
      }
      let newId: string | undefined
      if (typeof delta.id === 'string' && delta.id.length > 0 && call.id === null) {
        call.id = delta.id
        newId = delta.id
      }
      const fn = isRecord(delta.function) ? delta.function : null
      let newName: string | undefined
      // `"name": null` on later deltas (tool_choice "required", v0.10–0.11) and repeated names are ignored
      if (fn !== null && typeof fn.name === 'string' && fn.name.length > 0 && call.name === '') {
        call.name = fn.name
        newName = fn.name
      }
      const argumentsDelta = fn !== null && typeof fn.arguments === 'string' ? fn.arguments : ''
      call.arguments += argumentsDelta
      if (events !== null) {
        const event: ToolCallDeltaEvent = {
          type: 'tool-call-delta',
          choiceIndex: state.index,
          toolCallIndex: index,
          argumentsDelta,
        }
        if (newId !== undefined) event.id = newId
        if (newName !== undefined) event.name = newName
        events.push(event)
      }
    }
  }

  #readLogprobs(choice: Record<string, unknown>, field: string): LogprobEntry[] | null {
    const settings = this.#settings
    if (!settings.logprobsRequested) return null
    return settings.kind === 'chat'
      ? readChatLogprobs(choice.logprobs, settings.tokensAsTokenIds, `${field}.logprobs`)
      : readCompletionLogprobs(choice.logprobs, settings.tokensAsTokenIds, `${field}.logprobs`)
  }

  #applyTokenIds(
    state: ChoiceState,
    ids: number[] | null,
    chunkEntries: LogprobEntry[] | null,
    events: TokenStreamEvent[] | null,
  ) {
    const settings = this.#settings
    let entries = chunkEntries
    if (ids === null) {
      // ids not sent (not requested, or an old server): keep the logprobs of the sampled tokens anyway
      if (entries !== null) this.#appendLogprobs(state, entries)
      return
    }
    if (state.tokenIds === null) state.tokenIds = []
    const target = state.tokenIds
    for (let position = 0; position < ids.length; position += 1) target.push(ids[position]!)
    let chunkLogprobs: Array<number | null> | null = null
    let chunkTop: TopLogprob[][] | null = null
    if (settings.logprobsRequested && ids.length > 0) {
      if (entries === null) {
        // ids without logprobs (e.g. a parser-swallowed `delta: {}` frame): explicit nulls, never a guess
        entries = ids.map(() => ({ token: null, logprob: null, top: [] }))
      }
      if (entries.length !== ids.length) {
        state.logprobsMisaligned = true
      } else {
        if (settings.tokensAsTokenIds) this.#crossCheck(state, ids, entries)
        this.#appendLogprobs(state, entries)
        if (events !== null) {
          chunkLogprobs = entries.map((entry) => entry.logprob)
          chunkTop = settings.topLogprobsRequested ? entries.map((entry) => entry.top) : null
        }
      }
    }
    if (events !== null && ids.length > 0) {
      events.push({
        type: 'token-delta',
        choiceIndex: state.index,
        tokenIds: ids,
        logprobs: chunkLogprobs,
        topLogprobs: chunkTop,
      })
    }
  }

  #crossCheck(state: ChoiceState, ids: number[], entries: LogprobEntry[]) {
    for (let position = 0; position < ids.length; position += 1) {
      const token = entries[position]!.token
      if (token === null) continue
      const fromToken = parseTokenIdString(token)
      if (fromToken !== ids[position]) {
        state.logprobsMisaligned = true
        state.logprobDisagreements.push(
          `completion id ${ids[position]} at position ${(state.tokenIds?.length ?? 0) - ids.length + position} disagrees with its logprob token ${JSON.stringify(token)}`,
        )
      }
    }
  }

  #appendLogprobs(state: ChoiceState, entries: LogprobEntry[]) {
    if (state.logprobs === null) state.logprobs = []
    for (const entry of entries) state.logprobs.push(entry.logprob)
    if (this.#settings.topLogprobsRequested) {
      if (state.topLogprobs === null) state.topLogprobs = []
      for (const entry of entries) state.topLogprobs.push(entry.top)
    }
  }

  #applyFinish(state: ChoiceState, choice: Record<string, unknown>, events: TokenStreamEvent[] | null) {
    const finishReason = choice.finish_reason
    if (typeof finishReason !== 'string') return
    const stopReason = choice.stop_reason
    state.stopReason = typeof stopReason === 'number' || typeof stopReason === 'string' ? stopReason : null
    state.finishReason = this.#correctFinishReason(state, finishReason, state.tokenIds?.length ?? null)
    if (events !== null) {
      events.push({
        type: 'choice-end',
        choiceIndex: state.index,
        finishReason: state.finishReason,
        stopReason: state.stopReason,
      })
    }
  }

  /**
   * vLLM 0.10.2 reported `tool_calls` even when the engine stopped on `length`. When the choice generated
   * exactly `max_tokens` tokens and its last call's arguments are cut-off JSON, the call was truncated: say
   * `length`. `generated` is the choice's id count at the finish chunk (for the `choice-end` event) and, once
   * `usage` arrived, `usage.completion_tokens` of a single-choice response (for the record): the same vLLM
   * versions dropped parser-swallowed ids, and ids may not be requested at all, so the ids alone undercount.
   */
  #correctFinishReason(state: ChoiceState, finishReason: string, generated: number | null): FinishReason {
    const maxTokens = this.#settings.maxTokens
    if (finishReason !== 'tool_calls' || maxTokens === null || generated !== maxTokens) {
      return finishReason
    }
    const lastCall = state.toolCalls[state.toolCalls.length - 1]
    if (lastCall === undefined || lastCall.arguments === '') return finishReason
    try {
      JSON.parse(lastCall.arguments)
      return finishReason
    } catch {
      return 'length'
    }
  }

  #choiceState(index: unknown, position: number): ChoiceState {
    // vLLM always sends `index`; a missing one is read as the position
    const choiceIndex = index === undefined ? position : index
    if (!isIndex(choiceIndex)) {
      throw new MalformedResponseError(`choices[${position}].index is not a non-negative integer`)
    }
    let state = this.#choices[choiceIndex]
    if (state === undefined) {
      state = {
        index: choiceIndex,
        promptTokenIds: null,
        tokenIds: null,
        logprobs: null,
        topLogprobs: null,
        logprobsMisaligned: false,
        logprobDisagreements: [],
        text: '',
        reasoning: null,
        toolCalls: [],
        finishReason: null,
        stopReason: null,
      }
      this.#choices[choiceIndex] = state
    }
    return state
  }

  /**
   * The records, one per choice seen, in choice order, each verified against `usage`. With
   * `complete: false` they are marked `incomplete` and hold only what arrived.
   */
  records(timing: RequestTiming, complete: boolean, interruption: string | null = null): TokenRecord[] {
    const settings = this.#settings
    const states = this.#choices.filter((state) => state !== undefined)
    let completionIdsCount: number | null = null
    for (const state of states) {
      if (state.tokenIds !== null) completionIdsCount = (completionIdsCount ?? 0) + state.tokenIds.length
    }
    const promptIdsCount =
      settings.kind === 'chat' ? (this.#promptTokenIds?.length ?? null) : this.#batchPromptCount(states)
    // usage counts every choice together, so it tells one choice's generated tokens only when there is one
    const singleChoiceGenerated =
      states.length === 1 && settings.choicesPerPrompt === 1 && this.#usage !== null
        ? this.#usage.completionTokens
        : null
    return states.map((state) => {
      const finishReason =
        state.finishReason === null || singleChoiceGenerated === null
          ? state.finishReason
          : this.#correctFinishReason(state, state.finishReason, singleChoiceGenerated)
      const promptTokenIds = settings.kind === 'chat' ? this.#promptTokenIds : state.promptTokenIds
      const verification = verifyTokenIds({
        promptIds: promptTokenIds?.length ?? null,
        completionIds: state.tokenIds?.length ?? null,
        promptIdsCount,
        completionIdsCount,
        usage: this.#usage,
        complete,
        interruption,
        idsNotRequested: settings.idsNotRequested,
        streaming: settings.streaming,
        logprobDisagreements: state.logprobDisagreements,
      })
      // logprobs of chunks that carried no ids (a proxy stripping `token_ids`) cannot be placed: the lengths
      // then differ, and a shifted list must never pass for an aligned one
      const aligned =
        settings.logprobsRequested &&
        !state.logprobsMisaligned &&
        (state.tokenIds === null || state.tokenIds.length === (state.logprobs?.length ?? 0))
      return {
        schemaVersion: TOKEN_RECORD_SCHEMA_VERSION,
        kind: settings.kind,
        responseId: this.#responseId,
        model: this.#model ?? settings.requestedModel,
        choiceIndex: state.index,
        promptTokenIds: promptTokenIds === null ? null : promptTokenIds.slice(),
        tokenIds: state.tokenIds,
        logprobs: aligned ? state.logprobs : null,
        topLogprobs: aligned && settings.topLogprobsRequested ? state.topLogprobs : null,
        finishReason,
        stopReason: state.stopReason,
        usage: this.#usage === null ? null : { ...this.#usage },
        verification,
        text: state.text,
        reasoning: state.reasoning,
        toolCalls: state.toolCalls
          .slice()
          .sort((left, right) => left.index - right.index)
          .map(toToolCallRecord),
        timing,
        complete,
      }
    })
  }

  /** Prompt ids summed once per prompt (choice `i` belongs to prompt `floor(i / n)`), as vLLM sums usage. */
  #batchPromptCount(states: ChoiceState[]): number | null {
    const counted = new Map<number, number>()
    for (const state of states) {
      const prompt = Math.floor(state.index / Math.max(1, this.#settings.choicesPerPrompt))
      if (state.promptTokenIds !== null && !counted.has(prompt))
        counted.set(prompt, state.promptTokenIds.length)
    }
    if (counted.size === 0) return null
    let total = 0
    for (const count of counted.values()) total += count
    return total
  }
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

function isIndex(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < 1_000_000
}

/** Reads a token id list: `null` when the server sent `null`, otherwise every entry must be an id. */
function readIds(value: unknown, field: string): number[] | null {
  if (value === null) return null
  if (!Array.isArray(value)) {
    throw new MalformedResponseError(`${field} is ${describe(value)}, expected an array of token ids`)
  }
  for (let position = 0; position < value.length; position += 1) {
    const id: unknown = value[position]
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      throw new MalformedResponseError(`${field}[${position}] is ${describe(id)}, expected a token id`)
    }
  }
  return value as number[]
}

function firstChoicePromptIds(choices: unknown[]): number[] | null {
  const first: unknown = choices[0]
  if (!isRecord(first) || (first.index !== undefined && first.index !== 0)) return null
  return first.prompt_token_ids === undefined
    ? null
    : readIds(first.prompt_token_ids, 'choices[0].prompt_token_ids')
}

function readUsage(value: unknown): TokenUsage {
  if (!isRecord(value)) throw new MalformedResponseError('`usage` is not an object')
  const promptTokens = value.prompt_tokens
  const completionTokens = value.completion_tokens
  if (!isCount(promptTokens)) throw new MalformedResponseError('usage.prompt_tokens is not a token count')
  if (!isCount(completionTokens))
    throw new MalformedResponseError('usage.completion_tokens is not a token count')
  const totalTokens = isCount(value.total_tokens) ? value.total_tokens : promptTokens + completionTokens
  return { promptTokens, completionTokens, totalTokens }
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`
  return `a ${typeof value}`
}
