// One table of reply shapes, each run through a Strands Agent with VLLMModel twice, over real HTTP against
// mock-vllm: streaming (the default) and with `stream: false`. Both must give the same Strands events (once
// consecutive text deltas are joined: a body has one delta per block), the same records (timing aside), the
// same requests and the same outcome. Each case gets two fresh servers: mock-vllm seeds ids and logprobs by
// request index, so both servers answer the two forms of one request with the same reply.
import {
  Agent,
  BeforeModelCallEvent,
  ModelStreamUpdateEvent,
  NullConversationManager,
  tool,
} from '@strands-agents/sdk'
import { VLLMClient } from '@vllm-tito/client'
import { type MockVllmOptions, type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import { extractTokenRecord, type TokenRecord } from '@vllm-tito/spec'
import { VLLMToolValidationHooks } from '@vllm-tito/validation/strands'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { rewritingFetch } from '../__fixtures__/rewriting-fetch'
import { VLLMModel } from '../vllm-model'
import type { VLLMModelConfig } from '../vllm-model-config'

const MODEL_ID = 'Qwen/Qwen3-8B'

const calculator = tool({
  name: 'calculator',
  description: 'Evaluates an arithmetic expression such as 2+2.',
  inputSchema: z.object({ expression: z.string() }).strict(),
  callback: ({ expression }) => {
    const [left, operator, right] = /^(\d+)\s*([+*])\s*(\d+)$/.exec(expression)?.slice(1) ?? []
    if (left === undefined || right === undefined) throw new Error(`cannot evaluate ${expression}`)
    return String(operator === '+' ? Number(left) + Number(right) : Number(left) * Number(right))
  },
})
const clock = tool({
  name: 'clock',
  description: 'Tells the time.',
  inputSchema: z.object({}).strict(),
  callback: () => '12:00',
})

const callOf = (name: string, args: string) =>
  `<tool_call>\n{"name": "${name}", "arguments": ${args}}\n</tool_call>`

/** One reply shape: what the model "samples", how the agent and the server are set up, what must result. */
interface ReplyCase {
  name: string
  /** The replies, one per model call. */
  replies: string[]
  prompt?: string
  /** VLLMModel config beyond `modelId`, `returnTokenIds: true` and `stream`. */
  config?: Omit<VLLMModelConfig, 'modelId' | 'stream'>
  mock?: Omit<MockVllmOptions, 'policy' | 'model'>
  /** Text replacements applied to every response body (see `rewritingFetch`). */
  rewrite?: Array<readonly [string, string]>
  /** The Strands stop reason of each model call, in order (both modes). */
  stopReasons: string[]
  /** The agent's stop reason, or the error class it threw (both modes). */
  outcome: string
  /** What else this shape must show, checked on the non-streaming run (the streaming one equals it). */
  check: (run: CaseRun) => void
}

/** What one run of a case gave. */
type CaseRun = Awaited<ReturnType<typeof runCase>>

const cases: ReplyCase[] = [
  {
    name: 'text',
    replies: ['The answer is 4.'],
    stopReasons: ['endTurn'],
    outcome: 'endTurn',
    check: ({ records }) => {
      expect(records[0]?.text).toBe('The answer is 4.')
      expect(records[0]?.verification.status).toBe('verified')
    },
  },
  {
    name: 'reasoning, then text',
    replies: ['<think>\nLet me add.\n</think>\n\nThe answer is 4.'],
    stopReasons: ['endTurn'],
    outcome: 'endTurn',
    check: ({ records }) => expect(records[0]?.reasoning).toBe('\nLet me add.\n'),
  },
  {
    name: 'a tool loop with reasoning',
    replies: [
      `<think>\nI should use the calculator.\n</think>\n\n${callOf('calculator', '{"expression": "2+2"}')}`,
      'The answer is 4.',
    ],
    stopReasons: ['toolUse', 'endTurn'],
    outcome: 'endTurn',
    check: ({ toolResults }) => expect(toolResults).toEqual(['4']),
  },
  {
    name: 'text before a tool call',
    replies: [
      `<think>\nA tool helps.\n</think>\n\nLet me compute.\n${callOf('calculator', '{"expression": "2*3"}')}`,
      'It is 6.',
    ],
    stopReasons: ['toolUse', 'endTurn'],
    outcome: 'endTurn',
    check: ({ records }) => expect(records[0]?.text).toBe('\n\nLet me compute.\n'),
  },
  {
    name: 'parallel tool calls',
    replies: [
      `${callOf('calculator', '{"expression": "2+2"}')}\n${callOf('calculator', '{"expression": "3*3"}')}`,
      '4 and 9.',
    ],
    stopReasons: ['toolUse', 'endTurn'],
    outcome: 'endTurn',
    check: ({ toolResults }) => expect(toolResults).toEqual(['4', '9']),
  },
  {
    name: 'a parameterless tool call',
    replies: [callOf('clock', '{}'), 'It is noon.'],
    stopReasons: ['toolUse', 'endTurn'],
    outcome: 'endTurn',
    check: ({ records, toolResults }) => {
      expect(records[0]?.toolCalls.map((call) => call.arguments)).toEqual(['{}'])
      expect(toolResults).toEqual(['12:00'])
    },
  },
  {
    // vLLM's hermes parser turns a call that is not JSON into text when not streaming (see below); parsers
    // that pass arguments through, one frame per value, are imitated by rewriting the valid arguments
    name: 'malformed tool-call JSON, answered by the validation hooks',
    replies: [callOf('calculator', '{"expression": "2+2"}'), 'Sorry, 4.'],
    mock: { toolStreamQuirks: ['one-piece-arguments'] },
    rewrite: [['{\\"expression\\": \\"2+2\\"}', '{\\"expression\\": 2+2}']],
    stopReasons: ['toolUse', 'endTurn'],
    outcome: 'endTurn',
    check: ({ records, toolResults }) => {
      expect(records[0]?.toolCalls[0]?.arguments).toBe('{"expression": 2+2}')
      expect(toolResults).toEqual(['Error: tool_name=<calculator> | tool input is not valid JSON'])
    },
  },
  {
    name: 'a length finish',
    replies: ['one two three four five six seven eight nine ten'],
    config: { maxTokens: 4 },
    stopReasons: ['maxTokens'],
    outcome: 'MaxTokensError',
    check: ({ records }) => {
      expect(records[0]?.finishReason).toBe('length')
      expect(records[0]?.tokenIds).toHaveLength(4)
    },
  },
  {
    name: 'a stop string (stop_reason is the string)',
    replies: ['The answer is 4.'],
    config: { params: { stop: [' is'] } },
    stopReasons: ['endTurn'],
    outcome: 'endTurn',
    check: ({ records }) => {
      expect(records[0]?.text).toBe('The answer')
      expect(records[0]?.stopReason).toBe(' is')
    },
  },
  {
    name: 'no ids requested (records flagged unavailable)',
    replies: [callOf('calculator', '{"expression": "2+2"}'), 'The answer is 4.'],
    config: { returnTokenIds: false },
    stopReasons: ['toolUse', 'endTurn'],
    outcome: 'endTurn',
    check: ({ records }) =>
      expect(records.map((record) => record.verification.status)).toEqual(['unavailable', 'unavailable']),
  },
  {
    name: 'logprobs with alternatives',
    replies: [`<think>\nAdd.\n</think>\n\n${callOf('calculator', '{"expression": "2+2"}')}`, 'It is 4.'],
    config: { params: { logprobs: true, top_logprobs: 2 } },
    stopReasons: ['toolUse', 'endTurn'],
    outcome: 'endTurn',
    check: ({ records }) => {
      expect(records[0]?.logprobs).toHaveLength(records[0]!.tokenIds!.length)
      expect(records[0]?.topLogprobs?.[0]).toHaveLength(2)
    },
  },
  {
    name: "vLLM 0.10.2-0.11's wire (reasoning_content, 32-hex ids), without ids",
    replies: [`<think>\nAdd.\n</think>\n\n${callOf('calculator', '{"expression": "2+2"}')}`, 'It is 4.'],
    config: { returnTokenIds: false },
    mock: { mode: 'legacy-0.10' },
    stopReasons: ['toolUse', 'endTurn'],
    outcome: 'endTurn',
    check: ({ records }) => {
      expect(records[0]?.reasoning).toBe('\nAdd.\n')
      expect(records[0]?.responseId).toMatch(/^chatcmpl-[0-9a-f]{32}$/)
    },
  },
  ...(['abort', 'error'] as const).map(
    (reason): ReplyCase => ({
      name: `finish_reason ${reason} (the engine gave up)`,
      replies: ['The ans'],
      rewrite: [['"finish_reason":"stop"', `"finish_reason":"${reason}"`]],
      stopReasons: ['endTurn'],
      outcome: 'ModelError',
      check: ({ outcome }) =>
        expect(outcome).toMatchObject({ message: `vLLM gave up on the request (finish_reason '${reason}')` }),
    }),
  ),
  {
    name: 'finish_reason content_filter',
    replies: ['The answer is 4.'],
    rewrite: [['"finish_reason":"stop"', '"finish_reason":"content_filter"']],
    stopReasons: ['contentFiltered'],
    outcome: 'contentFiltered',
    check: ({ records }) => expect(records[0]?.finishReason).toBe('content_filter'),
  },
  {
    name: 'HTTP 429 after the retries',
    replies: ['unused'],
    mock: { faults: [{ kind: 'http-status', status: 429, retryAfterSeconds: 0 }] },
    stopReasons: [],
    outcome: 'ModelThrottledError',
    check: ({ outcome }) => expect(outcome).toMatchObject({ cause: 'APICallError' }),
  },
  {
    name: 'HTTP 503 after the retries',
    replies: ['unused'],
    mock: { faults: [{ kind: 'http-status', status: 503, retryAfterSeconds: 0 }] },
    stopReasons: [],
    outcome: 'ModelError',
    check: ({ outcome }) =>
      expect(outcome).toMatchObject({
        message: 'vLLM /v1/chat/completions returned HTTP 503 ServiceUnavailableError: Service unavailable.',
      }),
  },
  {
    name: 'a prompt beyond the context window',
    replies: ['unused'],
    prompt: 'word '.repeat(40),
    config: { maxTokens: 16 },
    mock: { maxModelLen: 32 },
    stopReasons: [],
    outcome: 'ContextWindowOverflowError',
    check: ({ outcome }) =>
      expect(outcome).toMatchObject({
        message: expect.stringMatching(/maximum context length is 32 tokens/),
      }),
  },
]

const servers: MockVllmServer[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close()
})

/** Plain JSON of a value (SDK event and block classes included). */
function plain(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value))
}

/** Keys two runs of the same reply differ in by design: latencies, timestamps, the SDK's random ids. */
const VOLATILE_KEYS = new Set(['timing', 'metrics', 'trackingId'])

/** The messages of a run as plain data, without {@link VOLATILE_KEYS}. */
function stableMessages(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value), (key, field: unknown) =>
    VOLATILE_KEYS.has(key) ? undefined : field,
  )
}

/** A record without its timing, the only field two runs of the same reply must differ in. */
function untimed(record: TokenRecord): Omit<TokenRecord, 'timing'> {
  const { timing: _timing, ...rest } = record
  return rest
}

/** The fields of a model event {@link normalizeEvents} reads or removes. */
interface PlainEvent {
  type: string
  metrics?: unknown
  delta?: { type: string; text?: string }
  additionalModelResponseFields?: { token_record?: { timing?: unknown } }
}

/**
 * The model events of one call as plain data: consecutive text or reasoning deltas joined into one (a body
 * has one per block), the metadata event's metrics (latencies) and the record's timing left out.
 */
function normalizeEvents(events: unknown[]): unknown[] {
  const normalized: PlainEvent[] = []
  for (const event of events.map(plain) as PlainEvent[]) {
    if (event.type === 'modelMetadataEvent') delete event.metrics
    delete event.additionalModelResponseFields?.token_record?.timing
    const previous = normalized.at(-1)
    const text = event.delta?.text
    if (
      event.type === 'modelContentBlockDeltaEvent' &&
      previous?.type === 'modelContentBlockDeltaEvent' &&
      previous.delta?.type === event.delta?.type &&
      previous.delta?.text !== undefined &&
      text !== undefined
    ) {
      previous.delta.text += text
    } else {
      normalized.push(event)
    }
  }
  return normalized
}

async function runCase(replyCase: ReplyCase, stream: boolean) {
  const mock = await startMockVllm({
    model: MODEL_ID,
    policy: { script: replyCase.replies },
    ...replyCase.mock,
  })
  servers.push(mock)
  const connection =
    replyCase.rewrite === undefined
      ? { baseUrl: `${mock.baseUrl}/v1` }
      : { client: new VLLMClient({ baseUrl: mock.baseUrl, fetch: rewritingFetch(replyCase.rewrite) }) }
  const model = new VLLMModel({
    modelId: MODEL_ID,
    returnTokenIds: true,
    ...replyCase.config,
    ...connection,
    stream,
  })
  const agent = new Agent({
    model,
    tools: [calculator, clock],
    plugins: [new VLLMToolValidationHooks()],
    printer: false,
    conversationManager: new NullConversationManager(),
    retryStrategy: null,
  })
  const calls: unknown[][] = []
  const records: TokenRecord[] = []
  agent.addHook(BeforeModelCallEvent, () => {
    calls.push([])
  })
  agent.addHook(ModelStreamUpdateEvent, (update) => {
    calls.at(-1)?.push(update.event)
    if (update.event.type !== 'modelMessageStopEvent') return
    const record = extractTokenRecord(update.event.additionalModelResponseFields)
    if (record !== undefined) records.push(record)
  })
  const outcome = await agent.invoke(replyCase.prompt ?? 'What is 2+2?').then(
    (result) => ({ stopReason: result.stopReason, messages: stableMessages(agent.messages) }),
    (error: Error) => ({
      error: error.constructor.name,
      message: error.message,
      cause: (error.cause as Error | undefined)?.name,
      messages: stableMessages(agent.messages),
    }),
  )
  const requests = mock.requests
    .filter((request) => request.path === '/v1/chat/completions')
    .map((request) => {
      const { stream: _stream, stream_options: _options, ...body } = request.body as Record<string, unknown>
      return body
    })
  const events = calls.map(normalizeEvents)
  const stopReasons = events.flatMap((call) =>
    (call as Array<{ type: string; stopReason?: string }>)
      .filter((event) => event.type === 'modelMessageStopEvent')
      .map((event) => event.stopReason),
  )
  const sentStream = mock.requests.map((request) => (request.body as { stream?: unknown }).stream)
  const lastMessages = (requests.at(-1)?.messages ?? []) as Array<{ role: string; content: unknown }>
  const toolResults = lastMessages
    .filter((message) => message.role === 'tool')
    .map((message) => message.content)
  return { events, records: records.map(untimed), outcome, requests, stopReasons, sentStream, toolResults }
}

describe('stream: false gives what streaming gives', () => {
  it.each(cases)('$name', async (replyCase) => {
    const streamed = await runCase(replyCase, true)
    const fromBody = await runCase(replyCase, false)

    expect(streamed.sentStream.every((value) => value === true)).toBe(true)
    expect(fromBody.sentStream.every((value) => value === false)).toBe(true)
    expect(streamed.stopReasons).toEqual(replyCase.stopReasons)
    const outcome = fromBody.outcome
    expect('error' in outcome ? outcome.error : outcome.stopReason).toBe(replyCase.outcome)
    expect(fromBody.records).toHaveLength(replyCase.stopReasons.length)
    replyCase.check(fromBody)

    expect(fromBody.events).toEqual(streamed.events)
    expect(fromBody.records).toEqual(streamed.records)
    expect(fromBody.outcome).toEqual(streamed.outcome)
    expect(fromBody.requests).toEqual(streamed.requests)
  })
})
