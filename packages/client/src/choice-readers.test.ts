import { describe, expect, it } from 'vitest'
import { chatSettings, testTiming } from './__fixtures__/response-settings'
import { buildRecords } from './build-records'
import { EventBatch } from './event-batch'
import type { ResponseSettings } from './response-settings'
import { ResponseState } from './response-state'
import { MalformedResponseError } from './wire-errors'

const timing = testTiming

function reader(overrides: Partial<ResponseSettings> = {}) {
  const events = new EventBatch()
  const response = new ResponseState(chatSettings(overrides), events)
  const apply = (...choices: unknown[]) => response.apply({ id: 'r', model: 'm', choices })
  return { response, events, apply, record: () => buildRecords(response, { timing, complete: true })[0]! }
}

describe('reading chat choices', () => {
  it('a choice without delta or message adds only its ids and finish', () => {
    const read = reader()
    read.apply({ index: 0, token_ids: [1] })
    read.apply({ index: 0, finish_reason: 'stop', token_ids: [2] })
    expect(read.record()).toMatchObject({
      text: '',
      reasoning: null,
      toolCalls: [],
      tokenIds: [1, 2],
      finishReason: 'stop',
    })
  })

  it('a chunk without finish_reason (absent or null) does not end the choice', () => {
    const read = reader()
    read.apply({ index: 0, delta: { content: 'a' } })
    read.apply({ index: 0, delta: { content: 'b' }, finish_reason: null })
    expect(read.events.take().map((event) => event.type)).toEqual([
      'response-start',
      'text-delta',
      'text-delta',
    ])
    expect(read.record().finishReason).toBeNull()
  })

  it('reads tool-call fragments leniently: missing function, name, id or arguments add nothing of theirs', () => {
    const read = reader()
    read.apply({
      index: 0,
      delta: { tool_calls: [{ index: 0, id: 'call-1', function: { name: 'add', arguments: '{"a": ' } }] },
    })
    read.apply({
      index: 0,
      delta: { tool_calls: [{ index: 0, id: null, function: { name: '', arguments: '1' } }] },
    })
    read.apply({ index: 0, delta: { tool_calls: [{ index: 0, function: { name: null } }] } })
    read.apply({ index: 0, delta: { tool_calls: [{ index: 0, id: 7 }] } })
    read.apply({
      index: 0,
      delta: { tool_calls: [{ index: 0, function: { arguments: '}' } }] },
    })
    // a call whose first fragment has an empty name gets no name yet
    read.apply({
      index: 0,
      delta: { tool_calls: [{ index: 1, function: { name: '', arguments: '{}' } }] },
      finish_reason: 'tool_calls',
    })
    expect(read.record().toolCalls).toEqual([
      { index: 0, id: 'call-1', name: 'add', arguments: '{"a": 1}' },
      { index: 1, id: null, name: '', arguments: '{}' },
    ])
    const deltas = read.events.take().filter((event) => event.type === 'tool-call-delta')
    expect(deltas).toEqual([
      {
        type: 'tool-call-delta',
        choiceIndex: 0,
        toolCallIndex: 0,
        argumentsDelta: '{"a": ',
        id: 'call-1',
        name: 'add',
      },
      { type: 'tool-call-delta', choiceIndex: 0, toolCallIndex: 0, argumentsDelta: '1' },
      { type: 'tool-call-delta', choiceIndex: 0, toolCallIndex: 0, argumentsDelta: '' },
      { type: 'tool-call-delta', choiceIndex: 0, toolCallIndex: 0, argumentsDelta: '' },
      { type: 'tool-call-delta', choiceIndex: 0, toolCallIndex: 0, argumentsDelta: '}' },
      { type: 'tool-call-delta', choiceIndex: 0, toolCallIndex: 1, argumentsDelta: '{}' },
    ])
  })

  it('a non-streaming message lists its calls without index: they are numbered by position', () => {
    const read = reader({ streaming: false })
    read.apply({
      index: 0,
      message: {
        content: null,
        tool_calls: [
          { id: 'a', function: { name: 'f', arguments: '{}' } },
          { id: 'b', function: { name: 'g', arguments: '{"x":1}' } },
        ],
      },
      finish_reason: 'tool_calls',
    })
    expect(read.record().toolCalls.map((call) => [call.index, call.id])).toEqual([
      [0, 'a'],
      [1, 'b'],
    ])
  })

  it('reads `reasoning`, else `reasoning_content`, before the text', () => {
    const both = reader()
    both.apply({ index: 0, delta: { reasoning: 'new', reasoning_content: 'old', content: 'x' } })
    expect(both.record().reasoning).toBe('new')
    expect(both.events.take().map((event) => event.type)).toEqual([
      'response-start',
      'reasoning-delta',
      'text-delta',
    ])
    const legacy = reader()
    legacy.apply({ index: 0, delta: { reasoning: null, reasoning_content: 'old' } })
    expect(legacy.record().reasoning).toBe('old')
  })

  it('does not read logprobs that were not requested, even malformed ones', () => {
    const read = reader({ logprobsRequested: false })
    read.apply({ index: 0, delta: { content: 'x' }, token_ids: [1], logprobs: { content: [7] } })
    expect(read.response.choices[0]!.logprobs).toBeNull()
    const requested = reader({ logprobsRequested: true })
    expect(() =>
      requested.apply({ index: 0, delta: {}, token_ids: [1], logprobs: { content: [7] } }),
    ).toThrow(new MalformedResponseError('choices[0].logprobs.content[0] is not an object'))
  })

  it('names the field of a malformed choice, and keeps nothing of it', () => {
    const read = reader()
    expect(() => read.apply({ index: 0, delta: { content: 'lost', tool_calls: [{ index: 0 }, 7] } })).toThrow(
      new MalformedResponseError('choices[0].tool_calls[1] is not an object'),
    )
    expect(() => read.apply({ index: 0, delta: {} }, { index: 1, delta: {}, token_ids: 'x' })).toThrow(
      'choices[1].token_ids is the string "x", not an array of token ids',
    )
  })
})

describe('reading completions choices', () => {
  const completion = { kind: 'completion', choicesPerPrompt: 1, choiceCount: 1 } as const

  it('keeps the first prompt ids of a choice: later chunks (null or absent) never replace them', () => {
    const read = reader(completion)
    read.apply({ index: 0, text: 'a', prompt_token_ids: [1, 2], token_ids: [5] })
    read.apply({ index: 0, text: 'b', prompt_token_ids: null, token_ids: [6] })
    read.apply({ index: 0, text: 'c', prompt_token_ids: [9], token_ids: [7] })
    read.apply({ index: 0, finish_reason: 'stop', token_ids: [8] })
    expect(read.record()).toMatchObject({ promptTokenIds: [1, 2], tokenIds: [5, 6, 7, 8], text: 'abc' })
  })

  it('names the field of malformed prompt or completion ids', () => {
    const batch = reader({ ...completion, choiceCount: 2 })
    expect(() =>
      batch.apply(
        { index: 0, text: '', prompt_token_ids: [1] },
        { index: 1, text: '', prompt_token_ids: [1.5] },
      ),
    ).toThrow(
      new MalformedResponseError(
        'choices[1].prompt_token_ids[0] is 1.5, not a token id (an integer from 0 to 4294967295)',
      ),
    )
    expect(() => reader(completion).apply({ index: 0, text: '', token_ids: [-2] })).toThrow(
      new MalformedResponseError(
        'choices[0].token_ids[0] is -2, not a token id (an integer from 0 to 4294967295)',
      ),
    )
  })

  it('reads completions logprobs when requested, naming their field when malformed', () => {
    const read = reader({ ...completion, logprobsRequested: true })
    read.apply({ index: 0, text: 'a', token_ids: [5], logprobs: { tokens: ['a'], token_logprobs: [-1] } })
    expect(read.response.choices[0]!.logprobs).toEqual([-1])
    expect(() =>
      read.apply({ index: 0, text: '', token_ids: [6], logprobs: { token_logprobs: ['x'] } }),
    ).toThrow(new MalformedResponseError('choices[0].logprobs.token_logprobs[0] is not a number'))
  })
})
