import type { TokenInPrompt, TokenRecord, TokenStreamEvent, ToolCallRecord } from '@vllm-tito/spec'
import { toToolInputJson } from '../invalid-json-arguments'
import { type ParsedReply, parseReply } from './parse-reply'

/** A tool call of the reply as the Strands events carry it. */
export interface ReplyToolCall {
  /** The call id the client gave it (`<responseId>-tool-<index>`). */
  id: string
  name: string
  /** The arguments as the model wrote them (`''` when none). */
  rawArguments: string
  /** The JSON text handed to the SDK: the raw arguments, `{}`, or the invalid-JSON wrapper. */
  inputJson: string
}

/** The finished reply of a token-in call. */
export interface TokenInReply {
  /** The completion record with the parsed text, reasoning, tool calls and the `tokenIn` description. */
  record: TokenRecord
  parsed: ParsedReply
  toolCalls: ReplyToolCall[]
}

/**
 * Turns the events of one `/v1/completions` call into the events a chat call of the same reply gives, so
 * `mapTokenStream` maps both alike. The completion's text is parsed as a whole once the call ended (the markup
 * decides what each piece is): reasoning, then text, then one tool-call delta per call, the choice end
 * (`tool_calls` when calls were found, as chat reports it) and the records, choice 0's rewritten as a chat
 * record would read plus `tokenIn`. `onReply` receives the reply before the records are handed on, unless
 * the engine gave up (`abort`, `error`).
 */
export async function* tokenInEvents(
  events: AsyncIterable<TokenStreamEvent>,
  settings: { toolsOffered: boolean; tokenIn: TokenInPrompt },
  onReply: (reply: TokenInReply) => void,
): AsyncGenerator<TokenStreamEvent> {
  for await (const event of events) {
    if (event.type === 'response-start' || event.type === 'usage') yield event
    else if (event.type === 'response-end') {
      const index = Math.max(
        0,
        event.records.findIndex((record) => record.choiceIndex === 0),
      )
      const source = event.records[index]
      if (source === undefined) {
        yield event
        continue
      }
      const reply = toReply(source, settings)
      yield* replyEvents(reply)
      if (reply.record.finishReason !== 'abort' && reply.record.finishReason !== 'error') onReply(reply)
      const records = event.records.slice()
      records[index] = reply.record
      yield { type: 'response-end', records }
    }
  }
}

function toReply(
  source: TokenRecord,
  settings: { toolsOffered: boolean; tokenIn: TokenInPrompt },
): TokenInReply {
  const parsed = parseReply(source.text, settings.toolsOffered)
  const responseId = source.responseId ?? 'cmpl'
  const toolCalls = parsed.toolCalls.map((call) => ({
    id: `${responseId}-tool-${call.index}`,
    name: call.name,
    rawArguments: call.rawArguments,
    inputJson: toToolInputJson(call.rawArguments),
  }))
  const toolCallRecords: ToolCallRecord[] = toolCalls.map((call, position) => ({
    index: position,
    id: call.id,
    name: call.name,
    arguments: call.rawArguments === '' ? '{}' : call.rawArguments,
  }))
  const record: TokenRecord = {
    ...source,
    text: parsed.content,
    reasoning: parsed.reasoning,
    toolCalls: toolCallRecords,
    finishReason: source.finishReason === 'stop' && toolCalls.length > 0 ? 'tool_calls' : source.finishReason,
    tokenIn: settings.tokenIn,
  }
  return { record, parsed, toolCalls }
}

/** The reply's content events for choice 0, one delta of each kind, in the order chat streams them. */
function* replyEvents(reply: TokenInReply): Generator<TokenStreamEvent> {
  const { record, parsed } = reply
  if (parsed.reasoning !== null) yield { type: 'reasoning-delta', choiceIndex: 0, text: parsed.reasoning }
  yield { type: 'text-delta', choiceIndex: 0, text: parsed.content }
  for (const [position, call] of reply.toolCalls.entries()) {
    yield {
      type: 'tool-call-delta',
      choiceIndex: 0,
      toolCallIndex: position,
      id: call.id,
      name: call.name,
      argumentsDelta: call.rawArguments,
    }
  }
  if (record.finishReason !== null) {
    yield {
      type: 'choice-end',
      choiceIndex: 0,
      finishReason: record.finishReason,
      stopReason: record.stopReason,
    }
  }
}
