import { type JSONValue, ModelError, type ModelStreamEvent, type StopReason } from '@strands-agents/sdk'
import {
  type FinishReason,
  type TokenRecord,
  type TokenStreamEvent,
  type TokenUsage,
  type ToolCallDeltaEvent,
  toResponseFields,
} from '@vllm-tito/spec'
import { toToolInputJson } from './invalid-json-arguments'

/** A tool call being assembled from its fragments. */
interface PendingToolCall {
  index: number
  id: string | undefined
  name: string | undefined
  rawArguments: string
}

/**
 * Maps the client's events of one streaming call (choice 0) to Strands model stream events:
 * - reasoning and text stream live, each run in its own properly nested block (start → deltas → stop);
 * - tool calls are assembled by `index` and emitted after the stream, one nested block each, so text before a
 *   call and every parallel call are kept; malformed arguments are wrapped (see `toToolInputJson`);
 * - the message-stop event carries `toResponseFields(record)` (`prompt_token_ids`, `token_ids`,
 *   `token_record`) in `additionalModelResponseFields`, then a metadata event carries usage and timing.
 *
 * Only choice 0 is mapped: a Strands message is one choice. `finish_reason` `abort`/`error` (the engine gave up)
 * is reported after the stop event, so hooks still see the record, and then fails the call with a `ModelError`.
 */
export async function* mapTokenStream(
  events: AsyncIterable<TokenStreamEvent>,
): AsyncGenerator<ModelStreamEvent> {
  const message = new MessageAssembly()
  for await (const event of events) {
    if (event.type === 'text-delta' || event.type === 'reasoning-delta') {
      if (event.choiceIndex === 0) yield* message.textEvents(event.type, event.text)
    } else {
      message.note(event)
    }
  }
  yield* message.endEvents()
}

/** What one call's events have told so far, and the Strands events they turn into. */
class MessageAssembly {
  #started = false
  #openBlock: 'text' | 'reasoning' | undefined
  #responseId: string | undefined
  #finishReason: FinishReason | undefined
  #record: TokenRecord | undefined
  #usage: TokenUsage | undefined
  readonly #toolCalls = new Map<number, PendingToolCall>()

  /** Keeps what the other events say; token deltas are collected by the client into the record. */
  note(event: Exclude<TokenStreamEvent, { type: 'text-delta' | 'reasoning-delta' }>): void {
    if (event.type === 'response-start') this.#responseId = event.responseId
    else if (event.type === 'response-end') {
      this.#record = event.records.find((candidate) => candidate.choiceIndex === 0) ?? event.records[0]
    } else if (event.type === 'usage') this.#usage = event.usage
    else if (event.choiceIndex !== 0) return
    else if (event.type === 'tool-call-delta') this.#addToolCallDelta(event)
    else if (event.type === 'choice-end') this.#finishReason = event.finishReason
  }

  /** The events of a text or reasoning delta of choice 0: each run of one kind in its own block. */
  *textEvents(type: 'text-delta' | 'reasoning-delta', text: string): Generator<ModelStreamEvent> {
    // the role chunk carries `content: ""`; an empty block would only add noise
    if (text === '') return
    if (!this.#started) {
      this.#started = true
      yield { type: 'modelMessageStartEvent', role: 'assistant' }
    }
    const kind = type === 'text-delta' ? 'text' : 'reasoning'
    if (this.#openBlock !== kind) {
      if (this.#openBlock !== undefined) yield { type: 'modelContentBlockStopEvent' }
      yield { type: 'modelContentBlockStartEvent' }
      this.#openBlock = kind
    }
    yield {
      type: 'modelContentBlockDeltaEvent',
      delta: kind === 'text' ? { type: 'textDelta', text } : { type: 'reasoningContentDelta', text },
    }
  }

  /** The events after the stream: open blocks closed, every tool call, the message stop and the metadata. */
  *endEvents(): Generator<ModelStreamEvent> {
    const record = this.#record
    if (record === undefined) {
      throw new ModelError('the vLLM stream ended without its final records (no response-end event)')
    }
    if (!this.#started) yield { type: 'modelMessageStartEvent', role: 'assistant' }
    if (this.#openBlock !== undefined) yield { type: 'modelContentBlockStopEvent' }
    const calls = [...this.#toolCalls.values()].sort((left, right) => left.index - right.index)
    for (const call of calls) yield* toolUseEvents(call, this.#responseId ?? record.responseId ?? 'chatcmpl')
    // the record's reason is final: it can only be corrected once usage arrived (vLLM 0.10.2's tool_calls on a
    // max_tokens cut), after the choice-end event
    const reason = record.finishReason ?? this.#finishReason
    yield {
      type: 'modelMessageStopEvent',
      stopReason: toStopReason(reason, calls.length > 0),
      // a TokenRecord is plain JSON by design (it is written as JSONL), so this widening is sound
      additionalModelResponseFields: toResponseFields(record) as unknown as JSONValue,
    }
    yield metadataEvent(record, record.usage ?? this.#usage)
    if (reason === 'abort' || reason === 'error') {
      throw new ModelError(`vLLM gave up on the request (finish_reason '${reason}')`, { cause: record })
    }
  }

  #addToolCallDelta(event: ToolCallDeltaEvent): void {
    const pending = this.#toolCalls.get(event.toolCallIndex) ?? {
      index: event.toolCallIndex,
      id: undefined,
      name: undefined,
      rawArguments: '',
    }
    pending.id ??= event.id
    pending.name ??= event.name
    pending.rawArguments += event.argumentsDelta
    this.#toolCalls.set(event.toolCallIndex, pending)
  }
}

/** One tool call as a nested block: start (name, id), the whole input, stop. */
function* toolUseEvents(call: PendingToolCall, responseId: string): Generator<ModelStreamEvent> {
  yield {
    type: 'modelContentBlockStartEvent',
    start: {
      type: 'toolUseStart',
      name: call.name ?? '',
      toolUseId: call.id ?? `${responseId}-tool-${call.index}`,
    },
  }
  yield {
    type: 'modelContentBlockDeltaEvent',
    delta: { type: 'toolUseInputDelta', input: toToolInputJson(call.rawArguments) },
  }
  yield { type: 'modelContentBlockStopEvent' }
}

/**
 * `stop` → `endTurn`; `tool_calls` → `toolUse` only when calls arrived; `length` → `maxTokens` (the SDK then
 * throws `MaxTokensError`, after hooks saw the record); `content_filter` → `contentFiltered`. Calls that arrive
 * with `stop` (a named `tool_choice` on newer vLLM) still give `toolUse`, so they are executed and answered.
 */
export function toStopReason(
  finishReason: FinishReason | null | undefined,
  hasToolCalls: boolean,
): StopReason {
  if (finishReason === 'length') return 'maxTokens'
  if (finishReason === 'content_filter') return 'contentFiltered'
  return hasToolCalls ? 'toolUse' : 'endTurn'
}

function metadataEvent(record: TokenRecord, usage: TokenUsage | undefined): ModelStreamEvent {
  const { timing } = record
  const metrics = {
    latencyMs: timing.endedAt - timing.startedAt,
    ...(timing.firstByteAt !== null && { timeToFirstByteMs: timing.firstByteAt - timing.startedAt }),
  }
  if (usage === undefined) return { type: 'modelMetadataEvent', metrics }
  return {
    type: 'modelMetadataEvent',
    usage: {
      inputTokens: usage.promptTokens,
      outputTokens: usage.completionTokens,
      totalTokens: usage.totalTokens,
    },
    metrics,
  }
}
