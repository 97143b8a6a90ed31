import { describe, expect, it } from 'vitest'
import { chatSettings, testTiming } from './__fixtures__/response-settings'
import { buildRecords } from './build-records'
import { EventBatch } from './event-batch'
import type { ResponseSettings } from './response-settings'
import { ResponseState } from './response-state'
import { MalformedResponseError, ServerErrorPayload } from './wire-errors'

const timing = testTiming

const settings = chatSettings

function chunk(choice: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return { id: 'chatcmpl-x', model: 'm', choices: [{ index: 0, ...choice }], ...extra }
}

/** A response state with an event batch, and its records as `buildRecords` makes them. */
function reader(overrides: Partial<ResponseSettings> = {}) {
  const events = new EventBatch()
  const response = new ResponseState(settings(overrides), events)
  const records = (complete = true, interruption: string | null = null) =>
    buildRecords(response, { timing, complete, interruption })
  return { response, events, records }
}

const usage = (prompt: number, completion: number) => ({
  id: 'chatcmpl-x',
  model: 'm',
  choices: [],
  usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
})

describe('ResponseState', () => {
  it('reads a non-streaming chat body (message, top-level prompt ids) like one chunk', () => {
    const read = reader({ streaming: false })
    read.response.apply({
      id: 'chatcmpl-a19161b8131141e2a79495025adb40eb',
      object: 'chat.completion',
      model: 'gpt-oss-120b',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Hello!',
            tool_calls: [{ id: 'call-1', type: 'function', function: { name: 'f', arguments: '{"x": 1}' } }],
            reasoning_content: 'The user says "Hello!"',
          },
          logprobs: null,
          finish_reason: 'stop',
          stop_reason: 50,
          token_ids: [9, 8, 200002],
        },
      ],
      usage: { prompt_tokens: 2, total_tokens: 5, completion_tokens: 3, prompt_tokens_details: null },
      prompt_logprobs: null,
      prompt_token_ids: [200006, 17360],
    })
    const [record] = read.records()
    expect(record).toMatchObject({
      responseId: 'chatcmpl-a19161b8131141e2a79495025adb40eb',
      model: 'gpt-oss-120b',
      promptTokenIds: [200006, 17360],
      tokenIds: [9, 8, 200002],
      text: 'Hello!',
      reasoning: 'The user says "Hello!"',
      stopReason: 50,
      toolCalls: [{ index: 0, id: 'call-1', name: 'f', arguments: '{"x": 1}' }],
      timing,
    })
    expect(record!.verification.status).toBe('verified')
  })

  it('gpt-oss harmony bug: a non-stream body with token_ids null is unavailable, never verified', () => {
    const read = reader({ streaming: false })
    read.response.apply({
      id: 'c',
      model: 'gpt-oss-120b',
      choices: [{ index: 0, message: { content: 'Hi' }, finish_reason: 'stop', token_ids: null }],
      usage: { prompt_tokens: 2, completion_tokens: 1, total_tokens: 3 },
      prompt_token_ids: [1, 2],
    })
    const verification = read.records()[0]!.verification
    expect(verification.status).toBe('unavailable')
    expect(verification.issues[0]).toMatch(
      /^the server returned no completion ids \(`token_ids`\): use vLLM >= 0\.10\.2/,
    )
  })

  it('without usage the ids are unverifiable, naming include_usage', () => {
    const read = reader()
    read.response.apply(
      chunk({ delta: { content: 'a' }, finish_reason: 'stop', token_ids: [5] }, { prompt_token_ids: [1] }),
    )
    const verification = read.records()[0]!.verification
    expect(verification.status).toBe('unverifiable')
    expect(verification.issues).toEqual([
      'the server sent no usage to check the ids against: keep `stream_options.include_usage` on (the client sends it unless told otherwise)',
    ])
  })

  it('logprobs that do not line up with the ids are dropped as a whole, never padded', () => {
    const read = reader({ logprobsRequested: true })
    read.response.apply(
      chunk(
        {
          delta: {},
          token_ids: [1, 2],
          logprobs: { content: [{ token: 'a', logprob: -1, top_logprobs: [] }] },
        },
        { prompt_token_ids: [9] },
      ),
    )
    read.response.apply(usage(1, 2))
    const [record] = read.records()
    expect(record!.tokenIds).toEqual([1, 2])
    expect(record!.logprobs).toBeNull()
    expect(record!.verification.status).toBe('verified')
  })

  it('logprobs are checked per chunk: misalignments that cancel out over the stream still drop them', () => {
    // chunk 1 has 2 ids and 1 logprob, chunk 2 has 1 id and 2 logprobs: 3 of each in total, but shifted
    const entries = (...logprobs: number[]) => ({
      content: logprobs.map((logprob) => ({ token: 'a', logprob, top_logprobs: [] })),
    })
    const read = reader({ logprobsRequested: true })
    read.response.apply(
      chunk({ delta: { content: 'x' }, token_ids: [1, 2], logprobs: entries(-1) }, { prompt_token_ids: [9] }),
    )
    read.response.apply(
      chunk({ delta: { content: 'y' }, finish_reason: 'stop', token_ids: [3], logprobs: entries(-2, -3) }),
    )
    read.response.apply(usage(1, 3))
    const [record] = read.records()
    expect(record!.tokenIds).toEqual([1, 2, 3])
    expect(record!.logprobs).toBeNull()
    expect(record!.topLogprobs).toBeNull()
    // the ids stay exact: only the logprobs are given up
    expect(record!.verification.status).toBe('verified')
    // and neither chunk's token-delta event pairs its ids with logprobs that are not theirs
    const deltas = read.events.take().filter((event) => event.type === 'token-delta')
    expect(deltas).toEqual([
      { type: 'token-delta', choiceIndex: 0, tokenIds: [1, 2], logprobs: null, topLogprobs: null },
      { type: 'token-delta', choiceIndex: 0, tokenIds: [3], logprobs: null, topLogprobs: null },
    ])
  })

  it('a stream whose last id (the EOS) went missing is a mismatch naming the one missing id', () => {
    const read = reader()
    read.response.apply(
      chunk({ delta: { content: 'Hi' }, token_ids: [5, 6] }, { prompt_token_ids: [1, 2, 3] }),
    )
    // the finish chunk carries the EOS token: a proxy dropped its id
    read.response.apply(chunk({ delta: { content: '' }, finish_reason: 'stop', token_ids: [] }))
    read.response.apply(usage(3, 3))
    const verification = read.records()[0]!.verification
    expect(verification).toMatchObject({
      status: 'mismatch',
      verified: false,
      completionIdsCount: 2,
      usageCompletionTokens: 3,
    })
    expect(verification.issues[0]).toMatch(
      /^completion ids: 2 received but usage.completion_tokens is 3 \(1 missing\)/,
    )
  })

  it('prompt ids one short of usage.prompt_tokens make the record a mismatch', () => {
    const read = reader({ streaming: false })
    read.response.apply({
      id: 'c',
      model: 'm',
      choices: [{ index: 0, message: { content: 'Hi' }, finish_reason: 'stop', token_ids: [5, 6] }],
      usage: { prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 },
      prompt_token_ids: [1, 2, 3],
    })
    expect(read.records()[0]!.verification).toEqual({
      status: 'mismatch',
      verified: false,
      promptIdsCount: 3,
      usagePromptTokens: 4,
      completionIdsCount: 2,
      usageCompletionTokens: 2,
      issues: ['prompt ids: 3 received but usage.prompt_tokens is 4'],
    })
  })

  it('logprobs of a chunk without token_ids, in a response that has ids, are never counted as aligned', () => {
    const entry = (logprob: number) => ({ content: [{ token: 'a', logprob, top_logprobs: [] }] })
    // before the first ids (e.g. a proxy that strips token_ids from some chunks) and after them
    for (const order of ['before', 'after'] as const) {
      const read = reader({ logprobsRequested: true })
      const withIds = chunk({ delta: { content: 'x' }, token_ids: [1], logprobs: entry(-1) })
      const withoutIds = chunk({ delta: { content: 'y' }, logprobs: entry(-2) })
      read.response.apply(chunk({ delta: { role: 'assistant', content: '' } }, { prompt_token_ids: [9] }))
      for (const next of order === 'before' ? [withoutIds, withIds] : [withIds, withoutIds]) {
        read.response.apply(next)
      }
      read.response.apply(usage(1, 1))
      const [record] = read.records()
      expect(record!.tokenIds).toEqual([1])
      expect(record!.logprobs).toBeNull()
    }
  })

  it('token_id:N logprob tokens that disagree with the ids make the record a mismatch', () => {
    const read = reader({ logprobsRequested: true, tokensAsTokenIds: true })
    read.response.apply(
      chunk(
        {
          delta: { content: 'x' },
          token_ids: [7],
          logprobs: { content: [{ token: 'token_id:8', logprob: -0.5, top_logprobs: [] }] },
        },
        { prompt_token_ids: [9] },
      ),
    )
    read.response.apply(usage(1, 1))
    const [record] = read.records()
    expect(record!.logprobs).toBeNull()
    expect(record!.verification.status).toBe('mismatch')
    expect(record!.verification.issues).toEqual([
      'completion id 7 at position 0 disagrees with its logprob token "token_id:8"',
    ])
  })

  it("vLLM 0.10.2's tool_calls finish on a max_tokens cut with broken arguments reads as length", () => {
    const read = reader({ maxTokens: 3 })
    read.response.apply(
      chunk(
        {
          delta: {
            tool_calls: [
              { index: 0, id: 't', type: 'function', function: { name: 'f', arguments: '{"a": ' } },
            ],
          },
          token_ids: [1, 2],
        },
        { prompt_token_ids: [9] },
      ),
    )
    read.response.apply(chunk({ delta: {}, finish_reason: 'tool_calls', stop_reason: null, token_ids: [3] }))
    expect(read.events.take().at(-1)).toEqual({
      type: 'choice-end',
      choiceIndex: 0,
      finishReason: 'length',
      stopReason: null,
    })
    // complete arguments at max_tokens keep the server's tool_calls
    const whole = reader({ maxTokens: 3 })
    whole.response.apply(
      chunk({
        delta: { tool_calls: [{ index: 0, function: { name: 'f', arguments: '{}' } }] },
        token_ids: [1, 2],
      }),
    )
    whole.response.apply(chunk({ delta: {}, finish_reason: 'tool_calls', token_ids: [3] }))
    expect(whole.records()[0]!.finishReason).toBe('tool_calls')
  })

  it("vLLM 0.10.2's tool_calls on length is also caught when ids were dropped or not requested, from usage", () => {
    // v0.10.2–0.11 both dropped parser-swallowed ids and reported tool_calls on a max_tokens cut: the ids
    // alone undercount what the engine generated, usage.completion_tokens does not
    for (const ids of [
      [[1], [2]],
      [null, null],
    ] as const) {
      const read = reader({ maxTokens: 5 })
      read.response.apply(
        chunk(
          {
            delta: {
              tool_calls: [
                { index: 0, id: 't', type: 'function', function: { name: 'f', arguments: '{"a": ' } },
              ],
            },
            token_ids: ids[0],
          },
          { prompt_token_ids: ids[0] === null ? null : [9] },
        ),
      )
      read.response.apply(
        chunk({ delta: {}, finish_reason: 'tool_calls', stop_reason: null, token_ids: ids[1] }),
      )
      read.response.apply(usage(1, 5))
      expect(read.records()[0]!.finishReason).toBe('length')
    }
    // fewer generated tokens than max_tokens: the server's tool_calls stands
    const short = reader({ maxTokens: 5 })
    short.response.apply(
      chunk({ delta: { tool_calls: [{ index: 0, function: { name: 'f', arguments: '{"a": ' } }] } }),
    )
    short.response.apply(chunk({ delta: {}, finish_reason: 'tool_calls' }))
    short.response.apply(usage(1, 4))
    expect(short.records()[0]!.finishReason).toBe('tool_calls')
  })

  it('continuous_usage_stats: the last cumulative usage wins and each one is an event', () => {
    const read = reader()
    read.response.apply(
      chunk(
        { delta: { content: 'a' }, token_ids: [1] },
        { prompt_token_ids: [9], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } },
      ),
    )
    read.response.apply(
      chunk(
        { delta: {}, finish_reason: 'stop', token_ids: [2] },
        { usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } },
      ),
    )
    expect(read.events.take().filter((event) => event.type === 'usage')).toHaveLength(2)
    expect(read.records()[0]!.verification.status).toBe('verified')
  })

  it('rejects what vLLM never sends, naming the field, and keeps nothing of that chunk', () => {
    const read = reader()
    expect(() => read.response.apply([])).toThrow(new MalformedResponseError('a chunk is not a JSON object'))
    expect(() => read.response.apply({ choices: {} })).toThrow('`choices` is not an array')
    expect(() => read.response.apply(chunk({ index: -1, delta: {} }))).toThrow(
      'choices[0].index is not a non-negative integer',
    )
    expect(() => read.response.apply(chunk({ delta: { content: 'lost' }, token_ids: [1, 2.5] }))).toThrow(
      'choices[0].token_ids[1] is 2.5, not a token id (an integer from 0 to 4294967295)',
    )
    expect(() => read.response.apply(usage(1, Number.NaN))).toThrow(
      'usage.completion_tokens is not a token count',
    )
    expect(read.records(false, 'test')[0]!.text).toBe('')
  })
})

describe('ResponseState: the response as a whole', () => {
  it('an error payload with nothing readable is an unknown server error; `error: null` is no error', () => {
    const read = reader()
    expect(() => read.response.apply({ error: 5, choices: [] })).toThrow(
      new ServerErrorPayload('unknown server error', {}),
    )
    expect(() => read.response.apply({ error: { message: 'boom', code: 500 }, choices: [] })).toThrow('boom')
    read.response.apply({ error: null, choices: [] })
    expect(read.response.started).toBe(true)
  })

  it('names a choice that is not an object', () => {
    expect(() => reader().response.apply({ choices: [{ index: 0, delta: {} }, 'x'] })).toThrow(
      new MalformedResponseError('choices[1] is not an object'),
    )
  })

  it('chat prompt ids: the first chunk that has them wins; malformed ones name the field', () => {
    const read = reader()
    read.response.apply(chunk({ delta: { content: '' } }, { prompt_token_ids: [1, 2] }))
    read.response.apply(chunk({ delta: { content: 'a' }, token_ids: [5] }, { prompt_token_ids: [3] }))
    expect(read.response.promptTokenIds).toEqual([1, 2])
    expect(() => reader().response.apply(chunk({ delta: {} }, { prompt_token_ids: [-1] }))).toThrow(
      new MalformedResponseError(
        'prompt_token_ids[0] is -1, not a token id (an integer from 0 to 4294967295)',
      ),
    )
    // completions carry prompt ids per choice: a top-level list is not theirs and is not read
    const completion = reader({ kind: 'completion' })
    completion.response.apply({ choices: [{ index: 0, text: 'x', token_ids: [1] }], prompt_token_ids: 'x' })
    expect(completion.response.promptTokenIds).toBeNull()
  })

  it('keeps the latest usage: a later chunk without usage does not erase it', () => {
    const read = reader()
    read.response.apply(chunk({ delta: { content: 'a' }, token_ids: [1] }, { prompt_token_ids: [9] }))
    read.response.apply(usage(1, 1))
    read.response.apply(chunk({ delta: {} }, { usage: null }))
    expect(read.response.usage).toEqual({ promptTokens: 1, completionTokens: 1, totalTokens: 2 })
  })

  it('reads id and model only when they are strings; response-start falls back to the requested model', () => {
    const read = reader({ requestedModel: 'asked' })
    read.response.apply({ id: 5, model: 7, choices: [{ index: 0, delta: { content: 'x' } }] })
    expect([read.response.responseId, read.response.model]).toEqual([null, null])
    expect(read.events.take()[0]).toEqual({
      type: 'response-start',
      responseId: '',
      model: 'asked',
      promptTokenIds: null,
    })
    const nothing = reader({ requestedModel: null })
    nothing.response.apply({ choices: [] })
    expect(nothing.events.take()[0]).toEqual({
      type: 'response-start',
      responseId: '',
      model: '',
      promptTokenIds: null,
    })
  })

  it('choices are kept apart by index; a missing index is the position; skipped indexes leave no record', () => {
    const read = reader({ choiceCount: 3 })
    read.response.apply({
      id: 'r',
      choices: [{ delta: { content: 'first' } }, { index: 2, delta: { content: 'third' } }],
    })
    expect(read.response.choices.map((choice) => [choice.index, choice.text])).toEqual([
      [0, 'first'],
      [2, 'third'],
    ])
    expect(read.records().map((record) => record.choiceIndex)).toEqual([0, 2])
  })

  it('with n > 1 each choice is judged on its own ids, never the summed usage, for the max_tokens cut', () => {
    const read = reader({ maxTokens: 2, choicesPerPrompt: 2, choiceCount: 2 })
    const cutCall = { tool_calls: [{ index: 0, id: 't', function: { name: 'f', arguments: '{"a": ' } }] }
    read.response.apply({
      id: 'r',
      prompt_token_ids: [9],
      choices: [
        { index: 0, delta: cutCall, token_ids: [1, 2], finish_reason: 'tool_calls' },
        { index: 1, delta: cutCall, token_ids: [3], finish_reason: 'tool_calls' },
      ],
    })
    read.response.apply(usage(1, 3))
    expect(read.records().map((record) => record.finishReason)).toEqual(['length', 'tool_calls'])
  })

  it("completions' response-start carries choice 0's prompt ids, only when the first choice is choice 0", () => {
    const start = (choices: unknown[]) => {
      const read = reader({ kind: 'completion' })
      read.response.apply({ id: 'c', choices })
      return read.events.take()[0]
    }
    expect(start([{ index: 0, text: '', prompt_token_ids: [1, 2] }])).toMatchObject({
      promptTokenIds: [1, 2],
    })
    expect(start([{ text: '', prompt_token_ids: [3] }])).toMatchObject({ promptTokenIds: [3] })
    expect(start([{ index: 1, text: '', prompt_token_ids: [4] }])).toMatchObject({ promptTokenIds: null })
    expect(start([{ index: 0, text: '' }])).toMatchObject({ promptTokenIds: null })
    expect(start([])).toMatchObject({ promptTokenIds: null })
    expect(() => start([{ index: 0, text: '', prompt_token_ids: 'x' }])).toThrow(
      'choices[0].prompt_token_ids is the string "x", not an array of token ids',
    )
  })
})
