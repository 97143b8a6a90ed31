import type { ChatRequest, CompletionRequest, TokenRecord, TokenStreamEvent } from '@vllm-tito/spec'
import { StreamInterruptedError } from '@vllm-tito/spec'
import { makeRecord } from '@vllm-tito/spec/testing'
import { describe, expect, it } from 'vitest'
import { fixtureBytes, replayFetch, splitRandomly, splitsInsideCharacter } from './__fixtures__/replay-fetch'
import { VLLMClient } from './vllm-client'

const chatRequest: ChatRequest = { model: 'Qwen/Qwen3-8B', messages: [{ role: 'user', content: 'Hi' }] }

interface Replay {
  events: TokenStreamEvent[]
  records: TokenRecord[]
}

async function replayChat(pieces: Uint8Array[], request: ChatRequest = chatRequest): Promise<Replay> {
  const { fetch } = replayFetch([{ pieces }])
  const client = new VLLMClient({ baseUrl: 'http://127.0.0.1:9', fetch, maxRetries: 0 })
  const stream = client.chat.stream(request)
  const events: TokenStreamEvent[] = []
  for await (const event of stream) events.push(event)
  return { events, records: withoutTiming(await stream.final()) }
}

async function replayCompletion(pieces: Uint8Array[], request: CompletionRequest): Promise<Replay> {
  const { fetch } = replayFetch([{ pieces }])
  const client = new VLLMClient({ baseUrl: 'http://127.0.0.1:9', fetch, maxRetries: 0 })
  const stream = client.completions.stream(request)
  const events: TokenStreamEvent[] = []
  for await (const event of stream) events.push(event)
  return { events, records: withoutTiming(await stream.final()) }
}

/** Timing is wall-clock; everything else must be byte-for-byte identical across re-chunkings. */
function withoutTiming<T extends TokenRecord>(records: T[]): T[] {
  return records.map((record) => ({ ...record, timing: { startedAt: 0, firstByteAt: 0, endedAt: 0 } }))
}

function stripEventTiming(events: TokenStreamEvent[]): TokenStreamEvent[] {
  return events.map((event) =>
    event.type === 'response-end' ? { ...event, records: withoutTiming(event.records) } : event,
  )
}

const timing = { startedAt: 0, firstByteAt: 0, endedAt: 0 }

function verified(promptCount: number, completionCount: number) {
  return {
    status: 'verified' as const,
    verified: true,
    promptIdsCount: promptCount,
    usagePromptTokens: promptCount,
    completionIdsCount: completionCount,
    usageCompletionTokens: completionCount,
    issues: [],
  }
}

/** Replays a fixture whole, then re-chunked with 40 seeds, and checks every replay gives the same result. */
async function expectStableUnderRechunking(
  name: string,
  replay: (pieces: Uint8Array[]) => Promise<Replay>,
): Promise<Replay> {
  const bytes = fixtureBytes(name)
  const whole = await replay([bytes])
  const oneByOne = await replay(splitRandomly(bytes, 1, 1))
  expect(oneByOne.records).toEqual(whole.records)
  let splitInsideCharacter = false
  for (let seed = 1; seed <= 40; seed += 1) {
    const pieces = splitRandomly(bytes, seed)
    splitInsideCharacter ||= splitsInsideCharacter(pieces)
    const rechunked = await replay(pieces)
    expect(rechunked.records, `seed ${seed}`).toEqual(whole.records)
    expect(stripEventTiming(rechunked.events), `seed ${seed}`).toEqual(stripEventTiming(whole.events))
  }
  if (bytes.some((byte) => byte >= 0x80)) expect(splitInsideCharacter).toBe(true)
  return whole
}

describe('golden .sse fixtures replayed through an injected fetch', () => {
  it('chat-basic: a short reply (role, content, finish and usage chunks) gives one verified record, stable under re-chunking', async () => {
    const { records, events } = await expectStableUnderRechunking('chat-basic.sse', (pieces) =>
      replayChat(pieces),
    )
    expect(records).toEqual([
      makeRecord({
        responseId: 'chatcmpl-9c16',
        model: 'm',
        promptTokenIds: [151644, 872, 198, 9707, 151645, 198, 151644, 77091, 198],
        tokenIds: [13048, 151645],
        usage: { promptTokens: 9, completionTokens: 2, totalTokens: 11 },
        verification: verified(9, 2),
        text: 'Hi',
        timing,
      }),
    ])
    expect(events.map((event) => event.type)).toEqual([
      'response-start',
      'text-delta',
      'token-delta',
      'token-delta',
      'choice-end',
      'usage',
      'response-end',
    ])
    expect(events[0]).toEqual({
      type: 'response-start',
      responseId: 'chatcmpl-9c16',
      model: 'm',
      promptTokenIds: [151644, 872, 198, 9707, 151645, 198, 151644, 77091, 198],
    })
    expect(events[3]).toEqual({
      type: 'token-delta',
      choiceIndex: 0,
      tokenIds: [151645],
      logprobs: null,
      topLogprobs: null,
    })
    expect(events[4]).toEqual({ type: 'choice-end', choiceIndex: 0, finishReason: 'stop', stopReason: null })
  })

  it('chat-gemma-no-ids: a real stream without ids is flagged unavailable, naming the fix', async () => {
    const { records } = await expectStableUnderRechunking('chat-gemma-no-ids.sse', (pieces) =>
      replayChat(pieces),
    )
    expect(records).toHaveLength(1)
    const record = records[0]!
    expect(record.promptTokenIds).toBeNull()
    expect(record.tokenIds).toBeNull()
    expect(record.text).toBe(' mercure')
    expect(record.finishReason).toBe('stop')
    expect(record.stopReason).toBe(106)
    expect(record.usage).toEqual({ promptTokens: 34, completionTokens: 22, totalTokens: 56 })
    expect(record.verification).toEqual({
      status: 'unavailable',
      verified: false,
      promptIdsCount: null,
      usagePromptTokens: 34,
      completionIdsCount: null,
      usageCompletionTokens: 22,
      issues: [
        'the server returned no token ids: use vLLM >= 0.10.2, send `return_token_ids: true` (the client does unless told otherwise), and make sure no proxy strips `prompt_token_ids`/`token_ids`',
      ],
    })
  })

  it('chat-hermes-parameterless: a tool call without arguments gets "{}"', async () => {
    const { records, events } = await expectStableUnderRechunking('chat-hermes-parameterless.sse', (pieces) =>
      replayChat(pieces),
    )
    expect(records[0]!.toolCalls).toEqual([
      {
        index: 0,
        id: 'chatcmpl-tool-7e08fc7ab28d41d1ab812c23ed2bd5c7',
        name: 'switch_led_on',
        arguments: '{}',
      },
    ])
    expect(records[0]!.finishReason).toBe('tool_calls')
    expect(records[0]!.verification.status).toBe('unavailable')
    expect(events.filter((event) => event.type === 'tool-call-delta')).toEqual([
      {
        type: 'tool-call-delta',
        choiceIndex: 0,
        toolCallIndex: 0,
        id: 'chatcmpl-tool-7e08fc7ab28d41d1ab812c23ed2bd5c7',
        name: 'switch_led_on',
        argumentsDelta: '',
      },
    ])
  })

  it('chat-art-required-logprobs: "name": null deltas keep the first name; logprobs kept without ids', async () => {
    const request: ChatRequest = { ...chatRequest, logprobs: true, return_tokens_as_token_ids: true }
    const { records } = await expectStableUnderRechunking('chat-art-required-logprobs.sse', (pieces) =>
      replayChat(pieces, request),
    )
    const record = records[0]!
    expect(record.toolCalls).toEqual([
      {
        index: 0,
        id: 'chatcmpl-tool-29e663261e524fcfa2162f4f3d76a7f0',
        name: 'get_current_weather',
        arguments: '{"city": "Paris"}',
      },
    ])
    expect(record.tokenIds).toBeNull()
    expect(record.logprobs).toEqual([-0.00015293381875380874, -0.25, -1.5])
    expect(record.topLogprobs).toBeNull()
    expect(record.verification.status).toBe('unavailable')
  })

  it('chat-parser-swallowed: ids of "delta": {} frames and the finish chunk are concatenated and verified', async () => {
    const { records } = await expectStableUnderRechunking('chat-parser-swallowed.sse', (pieces) =>
      replayChat(pieces),
    )
    const record = records[0]!
    expect(record.tokenIds).toEqual([
      151657, 198, 13, 13, 2, 14097, 788, 220, 18, 11, 330, 8926, 788, 330, 57, 7680, 1377, 9710, 9207,
      151658, 151645,
    ])
    expect(record.toolCalls).toEqual([
      {
        index: 0,
        id: 'chatcmpl-tool-a1b2c3d4e5f60718',
        name: 'get_weather',
        arguments: '{"days": 3, "city": "Zürich"}',
      },
    ])
    expect(record.text).toBe('')
    expect(record.verification).toEqual(verified(12, 21))
  })

  it('chat-legacy-dropped: vLLM 0.10.2–0.11 dropped ids are detected and explained', async () => {
    const { records } = await expectStableUnderRechunking('chat-legacy-dropped.sse', (pieces) =>
      replayChat(pieces),
    )
    const record = records[0]!
    expect(record.tokenIds).toEqual([1, 2, 15467, 9207, 151658, 151645])
    expect(record.verification).toEqual({
      status: 'mismatch',
      verified: false,
      promptIdsCount: 9,
      usagePromptTokens: 9,
      completionIdsCount: 6,
      usageCompletionTokens: 13,
      issues: [
        'completion ids: 6 received but usage.completion_tokens is 13 (7 missing): vLLM 0.10.2–0.11 drops the ids of tokens swallowed by a tool or reasoning parser while streaming (vllm-project/vllm#27482); upgrade to vLLM >= 0.12 (vllm-project/vllm#29074) or use the non-streaming call',
      ],
    })
    expect(record.toolCalls).toEqual([
      {
        index: 0,
        id: 'chatcmpl-tool-5e4d3c2b1a0f49e8d7c6b5a4f3e2d1c0',
        name: 'lookup',
        arguments: '{"q": "tea"}',
      },
    ])
  })

  it('chat-n2-multibyte: two interleaved choices, multi-byte text split inside characters', async () => {
    const request: ChatRequest = { ...chatRequest, n: 2 }
    const { records } = await expectStableUnderRechunking('chat-n2-multibyte.sse', (pieces) =>
      replayChat(pieces, request),
    )
    expect(records.map((record) => record.choiceIndex)).toEqual([0, 1])
    expect(records[0]!.text).toBe('Café 🙂')
    expect(records[1]!.text).toBe('日本語')
    expect(records[0]!.tokenIds).toEqual([34, 2577, 963, 145788, 151645])
    expect(records[1]!.tokenIds).toEqual([101059, 102819])
    expect(records[0]!.finishReason).toBe('stop')
    expect(records[1]!.finishReason).toBe('length')
    // vLLM's usage.completion_tokens is summed over choices, so each record compares the sum
    for (const record of records) {
      expect(record.promptTokenIds).toEqual([151644, 872, 198, 14990, 151645, 198, 151644, 77091, 198])
      expect(record.verification).toEqual(verified(9, 7))
    }
  })

  it('chat-reasoning-logprobs: reasoning from both names, logprobs aligned with explicit nulls, CRLF', async () => {
    const request: ChatRequest = {
      ...chatRequest,
      logprobs: true,
      top_logprobs: 2,
      return_tokens_as_token_ids: true,
    }
    const { records } = await expectStableUnderRechunking('chat-reasoning-logprobs.sse', (pieces) =>
      replayChat(pieces, request),
    )
    const record = records[0]!
    expect(record.reasoning).toBe('Hmm, ok.')
    expect(record.text).toBe('Yes')
    expect(record.tokenIds).toEqual([151667, 80022, 11, 562, 9454, 151645])
    expect(record.logprobs).toEqual([null, -0.5, -0.125, -9999, -0.0625, -0.001])
    expect(record.topLogprobs).toEqual([
      [],
      [
        { token: 'token_id:80022', logprob: -0.5, tokenId: 80022 },
        { token: 'token_id:32313', logprob: -1.25, tokenId: 32313 },
      ],
      [
        { token: 'token_id:11', logprob: -0.125, tokenId: 11 },
        { token: 'token_id:13', logprob: -2.5, tokenId: 13 },
      ],
      [{ token: 'token_id:562', logprob: -9999, tokenId: 562 }],
      [{ token: 'token_id:9454', logprob: -0.0625, tokenId: 9454 }],
      [{ token: 'token_id:151645', logprob: -0.001, tokenId: 151645 }],
    ])
    expect(record.verification).toEqual(verified(8, 6))
  })

  it('chat-args-in-finish: argument tails in the finish chunk and parallel calls merge by index', async () => {
    const { records } = await expectStableUnderRechunking('chat-args-in-finish.sse', (pieces) =>
      replayChat(pieces),
    )
    const record = records[0]!
    expect(record.text).toBe('Checking.')
    expect(record.toolCalls).toEqual([
      { index: 0, id: 'chatcmpl-tool-1111', name: 'add', arguments: '{"a": 1, "b": 2}' },
      { index: 1, id: 'chatcmpl-tool-2222', name: 'now', arguments: '{}' },
    ])
    expect(record.finishReason).toBe('tool_calls')
    expect(record.verification).toEqual(verified(8, 32))
  })

  it('completion-stream: the real v0.11 chunk gives per-choice prompt ids and no completion ids', async () => {
    const request: CompletionRequest = {
      model: 'qwen3-8b',
      prompt: 'Once upon a time',
      return_token_ids: false,
    }
    const { records } = await expectStableUnderRechunking('completion-stream.sse', (pieces) =>
      replayCompletion(pieces, request),
    )
    const record = records[0]!
    expect(record.kind).toBe('completion')
    expect(record.model).toBe('/home/jovyan/qwen3-8b')
    expect(record.promptTokenIds).toEqual([12522, 5193, 264, 882, 11, 1052, 572, 264, 33200, 46609, 6941])
    expect(record.tokenIds).toBeNull()
    expect(record.text).toBe(' Sir Lancelot.')
    expect(record.finishReason).toBe('length')
    expect(record.verification.status).toBe('unavailable')
    expect(record.verification.issues).toEqual(['token ids were not requested (`return_token_ids: false`)'])
  })

  it('completion-batch-ids: token-in batch gives one verified record per prompt with its own prompt ids', async () => {
    const request: CompletionRequest = {
      model: 'Qwen/Qwen3-8B',
      prompt: [[9707, 11], [14990]],
      logprobs: 1,
      return_tokens_as_token_ids: true,
    }
    const { records, events } = await expectStableUnderRechunking('completion-batch-ids.sse', (pieces) =>
      replayCompletion(pieces, request),
    )
    expect(events[0]).toEqual({
      type: 'response-start',
      responseId: 'cmpl-77aa',
      model: 'Qwen/Qwen3-8B',
      promptTokenIds: [9707, 11],
    })
    expect(records.map((record) => [record.choiceIndex, record.promptTokenIds, record.tokenIds])).toEqual([
      [0, [9707, 11], [1879, 0]],
      [1, [14990], [1052, 151643]],
    ])
    expect(records[0]!.stopReason).toBe('!')
    expect(records[0]!.logprobs).toEqual([-0.75, null])
    expect(records[0]!.topLogprobs).toEqual([
      [
        { token: 'token_id:1879', logprob: -0.75, tokenId: 1879 },
        { token: 'token_id:1052', logprob: -1.5, tokenId: 1052 },
      ],
      [],
    ])
    expect(records[1]!.logprobs).toEqual([-0.5, -0.25])
    for (const record of records) expect(record.verification).toEqual(verified(3, 4))
  })

  it('chat-mid-stream-error: a data: {"error"} payload raises StreamInterruptedError with the partial record', async () => {
    const bytes = fixtureBytes('chat-mid-stream-error.sse')
    for (const pieces of [[bytes], splitRandomly(bytes, 7), splitRandomly(bytes, 8, 1)]) {
      const { fetch } = replayFetch([{ pieces }])
      const client = new VLLMClient({ baseUrl: 'http://127.0.0.1:9', fetch })
      const stream = client.chat.stream(chatRequest)
      const error = await stream.final().catch((caught: unknown) => caught)
      expect(StreamInterruptedError.isInstance(error)).toBe(true)
      const interrupted = error as StreamInterruptedError
      expect(interrupted.statusCode).toBe(500)
      expect(interrupted.message).toBe(
        'vLLM sent an error mid-stream (code 500 InternalServerError): The engine died unexpectedly.',
      )
      expect(interrupted.partialRecords).toHaveLength(1)
      const partial = interrupted.partialRecord!
      expect(partial.complete).toBe(false)
      expect(partial.text).toBe('Partial')
      expect(partial.tokenIds).toEqual([33828])
      expect(partial.promptTokenIds).toEqual([151644, 872, 198, 151645, 198, 151644, 77091, 198])
      expect(partial.finishReason).toBeNull()
      expect(partial.verification.status).toBe('incomplete')
      expect(partial.verification.issues).toEqual([
        'the call did not finish (vLLM sent an error mid-stream (code 500 InternalServerError): The engine died unexpectedly.): the ids are only what arrived before the failure',
      ])
    }
  })
})
