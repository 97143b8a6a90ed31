import { type JSONValue, ModelError, type ModelStreamEvent, type StopReason } from '@strands-agents/sdk'
import {
  type FinishReason,
  type TokenRecord,
  type TokenStreamEvent,
  type TokenUsage,
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
  let started = false
  let openBlock: 'text' | 'reasoning' | undefined
  let responseId: string | undefined
  let finishReason: FinishReason | undefined
  let record: TokenRecord | undefined
  let usage: TokenUsage | undefined
  const toolCalls = new Map<number, PendingToolCall>()

  for await (const event of events) {
    if (event.type === 'response-start') {
      responseId = event.responseId
      continue
    }
    if (event.type === 'response-end') {
      record = event.records.find((candidate) => candidate.choiceIndex === 0) ?? event.records[0]
      continue
    }
    if (event.type === 'usage') {
      usage = event.usage
      continue
    }
    if (event.choiceIndex !== 0) continue
    switch (event.type) {
      case 'text-delta':
      case 'reasoning-delta': {
        // the role chunk carries `content: ""`; an empty block would only add noise
        if (event.text === '') break
        if (!started) {
          started = true
          yield { type: 'modelMessageStartEvent', role: 'assistant' }
        }
        const kind = event.type === 'text-delta' ? 'text' : 'reasoning'
        if (openBlock !== kind) {
          if (openBlock !== undefined) yield { type: 'modelContentBlockStopEvent' }
          yield { type: 'modelContentBlockStartEvent' }
          openBlock = kind
        }
        yield {
          type: 'modelContentBlockDeltaEvent',
          delta:
            kind === 'text'
              ? { type: 'textDelta', text: event.text }
              : { type: 'reasoningContentDelta', text: event.text },
        }
        break
      }
      case 'tool-call-delta': {
        const pending = toolCalls.get(event.toolCallIndex) ?? {
          index: event.toolCallIndex,
          id: undefined,
          name: undefined,
          rawArguments: '',
        }
        pending.id ??= event.id
        pending.name ??= event.name
        pending.rawArguments += event.argumentsDelta
        toolCalls.set(event.toolCallIndex, pending)
        break
      }
      case 'choice-end':
        finishReason = event.finishReason
        break
      default:
        // token deltas are collected by the client into the record
        break
    }
  }

  if (record === undefined) {
    throw new ModelError('the vLLM stream ended without its final records (no response-end event)')
  }
  if (!started) yield { type: 'modelMessageStartEvent', role: 'assistant' }
  if (openBlock !== undefined) yield { type: 'modelContentBlockStopEvent' }
  const calls = [...toolCalls.values()].sort((left, right) => left.index - right.index)
  for (const call of calls) {
    yield {
      type: 'modelContentBlockStartEvent',
      start: {
        type: 'toolUseStart',
        name: call.name ?? '',
        toolUseId: call.id ?? `${responseId ?? record.responseId ?? 'chatcmpl'}-tool-${call.index}`,
      },
    }
    yield {
      type: 'modelContentBlockDeltaEvent',
      delta: { type: 'toolUseInputDelta', input: toToolInputJson(call.rawArguments) },
    }
    yield { type: 'modelContentBlockStopEvent' }
  }
  // the record's reason is final: it can only be corrected once usage arrived (vLLM 0.10.2's tool_calls on a
  // max_tokens cut), after the choice-end event
  const reason = record.finishReason ?? finishReason
  yield {
    type: 'modelMessageStopEvent',
    stopReason: toStopReason(reason, calls.length > 0),
    // a TokenRecord is plain JSON by design (it is written as JSONL), so this widening is sound
    additionalModelResponseFields: toResponseFields(record) as unknown as JSONValue,
  }
  yield metadataEvent(record, record.usage ?? usage)
  if (reason === 'abort' || reason === 'error') {
    throw new ModelError(`vLLM gave up on the request (finish_reason '${reason}')`, { cause: record })
  }
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
