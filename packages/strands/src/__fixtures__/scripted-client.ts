import type {
  ChatRequest,
  StreamCallOptions,
  TokenRecord,
  TokenStream,
  TokenStreamEvent,
  TokenStreamingClient,
} from '@vllm-tito/spec'
import { makeRecord } from '@vllm-tito/spec/testing'

/** One scripted call: the events the stream yields, then optionally an error, or a wait for the abort. */
export interface ScriptedCall {
  events: TokenStreamEvent[]
  /** Thrown after the events. */
  error?: unknown
  /** After the events, wait until the request's signal aborts, then reject like a transport does. */
  waitForAbort?: boolean
}

/** A request the scripted client received. */
export interface ReceivedCall {
  /** Which method was called: a stream, or a non-streaming call read as events. */
  method: 'stream' | 'createEvents'
  request: ChatRequest
  options: StreamCallOptions | undefined
}

/**
 * A {@link TokenStreamingClient} that replays scripted event sequences, one per call (from `chat.stream` and
 * `chat.createEvents` alike), and records what it was asked. It stands in for the HTTP client where a test is
 * about event mapping, not transport.
 */
export function scriptedClient(
  calls: ScriptedCall[],
): TokenStreamingClient & { received: ReceivedCall[]; chat: Required<TokenStreamingClient['chat']> } {
  const received: ReceivedCall[] = []
  const replay = (method: ReceivedCall['method']) => (request: ChatRequest, options?: StreamCallOptions) => {
    const call = calls[received.length]
    received.push({ method, request, options })
    if (call === undefined) throw new Error(`no scripted call #${received.length}`)
    return scriptedStream(call, options?.signal)
  }
  return { received, chat: { stream: replay('stream'), createEvents: replay('createEvents') } }
}

function scriptedStream(call: ScriptedCall, signal: AbortSignal | undefined): TokenStream {
  async function* run(): AsyncGenerator<TokenStreamEvent> {
    for (const event of call.events) yield event
    if (call.waitForAbort) {
      await new Promise<void>((resolve) => {
        if (signal === undefined || signal.aborted) resolve()
        else signal.addEventListener('abort', () => resolve(), { once: true })
      })
      throw new DOMException('This operation was aborted', 'AbortError')
    }
    if (call.error !== undefined) throw call.error
  }
  const iterator = run()
  return {
    [Symbol.asyncIterator]: () => iterator,
    final: async () => {
      const end = call.events.find((event) => event.type === 'response-end')
      return end?.type === 'response-end' ? end.records : []
    },
    abort: () => undefined,
  }
}

/** What a reply consists of, for {@link replyEvents}. */
export interface ScriptedReply {
  reasoning?: string[]
  text?: string[]
  /** Tool calls, each as its argument fragments (the first fragment carries id and name). */
  toolCalls?: Array<{ id?: string; name: string; fragments: string[] }>
  finishReason?: string
  record?: Partial<TokenRecord>
}

/**
 * Builds the event sequence the client emits for a reply, in vLLM's order: start, reasoning, text, tool-call
 * fragments (a token delta after each), finish, usage, end. The record matches the reply.
 */
export function replyEvents(reply: ScriptedReply): { events: TokenStreamEvent[]; record: TokenRecord } {
  const finishReason = reply.finishReason ?? (reply.toolCalls?.length ? 'tool_calls' : 'stop')
  const record = makeRecord({
    text: (reply.text ?? []).join(''),
    reasoning: reply.reasoning ? reply.reasoning.join('') : null,
    toolCalls: (reply.toolCalls ?? []).map((call, index) => ({
      index,
      id: call.id ?? null,
      name: call.name,
      arguments: call.fragments.join('') === '' ? '{}' : call.fragments.join(''),
    })),
    finishReason,
    ...reply.record,
  })
  const events: TokenStreamEvent[] = [
    {
      type: 'response-start',
      responseId: 'chatcmpl-1',
      model: 'Qwen/Qwen3-8B',
      promptTokenIds: [151644, 872, 198],
    },
    { type: 'text-delta', choiceIndex: 0, text: '' },
  ]
  for (const text of reply.reasoning ?? []) events.push({ type: 'reasoning-delta', choiceIndex: 0, text })
  for (const text of reply.text ?? []) events.push({ type: 'text-delta', choiceIndex: 0, text })
  for (const [index, call] of (reply.toolCalls ?? []).entries()) {
    events.push({
      type: 'tool-call-delta',
      choiceIndex: 0,
      toolCallIndex: index,
      ...(call.id !== undefined && { id: call.id }),
      name: call.name,
      argumentsDelta: '',
    })
    for (const fragment of call.fragments) {
      events.push({ type: 'tool-call-delta', choiceIndex: 0, toolCallIndex: index, argumentsDelta: fragment })
      events.push({ type: 'token-delta', choiceIndex: 0, tokenIds: [1], logprobs: null, topLogprobs: null })
    }
  }
  events.push(
    { type: 'choice-end', choiceIndex: 0, finishReason, stopReason: null },
    { type: 'usage', usage: { promptTokens: 3, completionTokens: 2, totalTokens: 5 } },
    { type: 'response-end', records: [record] },
  )
  return { events, record }
}
