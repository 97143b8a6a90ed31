import { type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import type { ChatRequest, TokenRecord, TokenStreamEvent } from '@vllm-tito/spec'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildRecords } from './build-records'
import { EventBatch } from './event-batch'
import { wireBody } from './request-bodies'
import { chatSettings } from './response-settings'
import { ResponseState } from './response-state'
import { VLLMClient } from './vllm-client'

/**
 * A non-streaming body goes through the same response state as a stream's chunks, so it gives the same
 * records and the same events (one of each kind instead of many deltas). mock-vllm answers both forms of the
 * same request with the same reply.
 */

const MODEL = 'Qwen/Qwen3-8B'
const REPLY =
  '<think>\nI should add.\n</think>\n\nLet me add. <tool_call>\n{"name": "add", "arguments": {"a": 2, "b": 3}}\n</tool_call>'
const request: ChatRequest = {
  model: MODEL,
  messages: [{ role: 'user', content: 'What is 2 + 3?' }],
  tools: [
    {
      type: 'function',
      function: { name: 'add', parameters: { type: 'object', properties: { a: {}, b: {} } } },
    },
  ],
  logprobs: true,
}

let server: MockVllmServer

beforeAll(async () => {
  server = await startMockVllm({ policy: { script: [REPLY] } })
})

afterAll(async () => {
  await server.close()
})

/** What a consumer of the events learns: the deltas joined, in the order their kinds first appear. */
function summarize(events: TokenStreamEvent[]) {
  const kinds: string[] = []
  let text = ''
  let reasoning = ''
  const tokenIds: number[] = []
  // mock-vllm draws logprob values afresh per request: their count is what must agree
  let logprobCount = 0
  const toolCalls = new Map<number, { name: string; arguments: string; hasId: boolean }>()
  for (const event of events) {
    if (kinds.at(-1) !== event.type && event.type !== 'token-delta') kinds.push(event.type)
    if (event.type === 'text-delta') text += event.text
    if (event.type === 'reasoning-delta') reasoning += event.text
    if (event.type === 'token-delta') {
      tokenIds.push(...event.tokenIds)
      logprobCount += event.logprobs?.length ?? 0
    }
    if (event.type === 'tool-call-delta') {
      const call = toolCalls.get(event.toolCallIndex) ?? { name: '', arguments: '', hasId: false }
      call.name += event.name ?? ''
      call.arguments += event.argumentsDelta
      call.hasId ||= event.id !== undefined
      toolCalls.set(event.toolCallIndex, call)
    }
  }
  const start = events.find((event) => event.type === 'response-start')
  const choiceEnd = events.find((event) => event.type === 'choice-end')
  const usage = events.find((event) => event.type === 'usage')
  return {
    kinds,
    promptTokenIds: start?.type === 'response-start' ? start.promptTokenIds : undefined,
    text,
    reasoning,
    tokenIds,
    logprobCount,
    toolCalls: [...toolCalls.entries()],
    choiceEnd,
    usage,
  }
}

/** Fields that differ between two calls by design: ids the server makes up, logprob values, timing. */
function comparable(record: TokenRecord) {
  return {
    ...record,
    responseId: null,
    timing: null,
    logprobs: record.logprobs?.length,
    topLogprobs: record.topLogprobs?.length,
    toolCalls: record.toolCalls.map((call) => ({ ...call, id: call.id === null ? null : 'id' })),
  }
}

describe('a non-streaming body read through the response state', () => {
  it('gives the events and the records the stream of the same request gives', async () => {
    const stream = new VLLMClient({ baseUrl: server.baseUrl }).chat.stream(request)
    const streamed: TokenStreamEvent[] = []
    for await (const event of stream) streamed.push(event)
    const streamedRecords = await stream.final()

    const answer = await fetch(`${server.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(wireBody(request, false)),
    })
    const events = new EventBatch()
    const response = new ResponseState(chatSettings(request, false), events)
    response.apply(await answer.json())
    const records = buildRecords(response, {
      timing: { startedAt: 0, firstByteAt: 0, endedAt: 0 },
      complete: true,
    })
    const bodyEvents = [...events.take(), { type: 'response-end' as const, records }]

    const fromStream = summarize(streamed)
    const fromBody = summarize(bodyEvents)
    expect(fromStream.kinds).toEqual([
      'response-start',
      'reasoning-delta',
      'text-delta',
      'tool-call-delta',
      'choice-end',
      'usage',
      'response-end',
    ])
    expect(fromBody).toEqual(fromStream)
    expect(fromBody.tokenIds).toEqual(records[0]!.tokenIds)
    expect(fromBody.logprobCount).toBe(records[0]!.tokenIds!.length)
    expect(fromBody.toolCalls).toEqual([[0, { name: 'add', arguments: '{"a": 2, "b": 3}', hasId: true }]])
    expect(records.map(comparable)).toEqual(streamedRecords.map(comparable))
    expect(records[0]!.verification.status).toBe('verified')
  })
})
