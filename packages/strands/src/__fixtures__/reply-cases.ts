// The reply shapes `e2e/stream-and-body.test.ts` runs through VLLMModel with and without streaming: what the
// model "samples", how the agent and mock-vllm are set up, and what must result in both modes.
import { tool } from '@strands-agents/sdk'
import type { MockVllmOptions } from '@vllm-tito/mock-vllm'
import type { TokenRecord } from '@vllm-tito/spec'
import { expect } from 'vitest'
import { z } from 'zod'
import type { VLLMModelConfig } from '../vllm-model-config'

/** What one run of a case gave: the parts both modes must agree on, as plain data. */
export interface CaseRun {
  /** The model events of each call, normalised (see the test's `normalizeEvents`). */
  events: unknown[][]
  /** The records of the calls, without timing. */
  records: Array<Omit<TokenRecord, 'timing'>>
  /** The agent's stop reason or error, with the conversation it left. */
  outcome:
    | { stopReason: string; messages: unknown }
    | { error: string; message: string; cause: string | undefined; messages: unknown }
  /** The chat request bodies mock-vllm received, without `stream` and `stream_options`. */
  requests: Array<Record<string, unknown>>
  /** The Strands stop reason of each call. */
  stopReasons: Array<string | undefined>
  /** The `stream` field of every request. */
  sentStream: unknown[]
  /** The tool results sent with the last request. */
  toolResults: unknown[]
}

export const calculator = tool({
  name: 'calculator',
  description: 'Evaluates an arithmetic expression such as 2+2.',
  inputSchema: z.object({ expression: z.string() }).strict(),
  callback: ({ expression }) => {
    const [left, operator, right] = /^(\d+)\s*([+*])\s*(\d+)$/.exec(expression)?.slice(1) ?? []
    if (left === undefined || right === undefined) throw new Error(`cannot evaluate ${expression}`)
    return String(operator === '+' ? Number(left) + Number(right) : Number(left) * Number(right))
  },
})
export const clock = tool({
  name: 'clock',
  description: 'Tells the time.',
  inputSchema: z.object({}).strict(),
  callback: () => '12:00',
})

const callOf = (name: string, args: string) =>
  `<tool_call>\n{"name": "${name}", "arguments": ${args}}\n</tool_call>`

/** One reply shape: what the model "samples", how the agent and the server are set up, what must result. */
export interface ReplyCase {
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

export const replyCases: ReplyCase[] = [
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
