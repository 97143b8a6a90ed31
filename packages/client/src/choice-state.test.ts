import { describe, expect, it } from 'vitest'
import { chatSettings } from './__fixtures__/response-settings'
import { ChoiceState } from './choice-state'
import { EventBatch } from './event-batch'
import type { LogprobEntry } from './logprob-entries'
import type { ResponseSettings } from './response-settings'

function settings(overrides: Partial<ResponseSettings> = {}): ResponseSettings {
  return chatSettings({ logprobsRequested: true, ...overrides })
}

function choice(overrides: Partial<ResponseSettings> = {}, index = 0) {
  const events = new EventBatch()
  return { state: new ChoiceState(index, settings(overrides), events), events }
}

const entry = (logprob: number | null, token: string | null = 'a', top: LogprobEntry['top'] = []) => ({
  token,
  logprob,
  top,
})

describe('ChoiceState: text and reasoning', () => {
  it('appends text with one event per non-empty piece', () => {
    const { state, events } = choice({}, 2)
    state.addText('Hel')
    state.addText('')
    state.addText('lo')
    expect(state.text).toBe('Hello')
    expect(events.take()).toEqual([
      { type: 'text-delta', choiceIndex: 2, text: 'Hel' },
      { type: 'text-delta', choiceIndex: 2, text: 'lo' },
    ])
  })

  it('an empty reasoning piece marks the choice as reasoning without an event', () => {
    const { state, events } = choice()
    expect(state.reasoning).toBeNull()
    state.addReasoning('')
    expect(state.reasoning).toBe('')
    expect(events.size).toBe(0)
    state.addReasoning('think')
    state.addReasoning(' more')
    expect(state.reasoning).toBe('think more')
    expect(events.take()).toEqual([
      { type: 'reasoning-delta', choiceIndex: 0, text: 'think' },
      { type: 'reasoning-delta', choiceIndex: 0, text: ' more' },
    ])
  })
})

describe('ChoiceState: tool calls', () => {
  it('merges fragments by index: the first id and name stay, arguments concatenate, events carry only what is new', () => {
    const { state, events } = choice()
    state.addToolCallFragment({ index: 0, id: 'call-1', name: 'add', argumentsDelta: '{"a": ' })
    state.addToolCallFragment({ index: 1, id: undefined, name: undefined, argumentsDelta: '' })
    state.addToolCallFragment({ index: 0, id: 'call-2', name: 'other', argumentsDelta: '1}' })
    state.addToolCallFragment({ index: 1, id: '', name: 'mul', argumentsDelta: '{}' })
    state.addToolCallFragment({ index: 1, id: 'call-3', name: undefined, argumentsDelta: '' })
    expect(state.toolCalls).toEqual([
      { index: 0, id: 'call-1', name: 'add', arguments: '{"a": 1}' },
      { index: 1, id: 'call-3', name: 'mul', arguments: '{}' },
    ])
    expect(state.lastToolArguments).toBe('{}')
    expect(events.take()).toEqual([
      {
        type: 'tool-call-delta',
        choiceIndex: 0,
        toolCallIndex: 0,
        argumentsDelta: '{"a": ',
        id: 'call-1',
        name: 'add',
      },
      { type: 'tool-call-delta', choiceIndex: 0, toolCallIndex: 1, argumentsDelta: '' },
      { type: 'tool-call-delta', choiceIndex: 0, toolCallIndex: 0, argumentsDelta: '1}' },
      { type: 'tool-call-delta', choiceIndex: 0, toolCallIndex: 1, argumentsDelta: '{}', name: 'mul' },
      { type: 'tool-call-delta', choiceIndex: 0, toolCallIndex: 1, argumentsDelta: '', id: 'call-3' },
    ])
  })

  it('without an event batch the calls are still assembled', () => {
    const state = new ChoiceState(0, settings(), null)
    state.addToolCallFragment({ index: 0, id: 'c', name: 'f', argumentsDelta: '{}' })
    expect(state.toolCalls).toEqual([{ index: 0, id: 'c', name: 'f', arguments: '{}' }])
    expect(choice().state.lastToolArguments).toBeNull()
  })
})

describe('ChoiceState: ids and logprobs', () => {
  it('appends ids with their logprobs and one token-delta per chunk; an empty chunk adds no event', () => {
    const { state, events } = choice({ topLogprobsRequested: true })
    const top = [{ token: 'b', logprob: -2, tokenId: null }]
    state.addTokens([1, 2], [entry(-0.5, 'a', top), entry(-1)])
    state.addTokens([], [])
    state.addTokens([3], [entry(null)])
    expect(state.tokenIds).toEqual([1, 2, 3])
    expect(state.logprobs).toEqual([-0.5, -1, null])
    expect(state.topLogprobs).toEqual([top, [], []])
    expect(state.logprobsAligned).toBe(true)
    expect(events.take()).toEqual([
      { type: 'token-delta', choiceIndex: 0, tokenIds: [1, 2], logprobs: [-0.5, -1], topLogprobs: [top, []] },
      { type: 'token-delta', choiceIndex: 0, tokenIds: [3], logprobs: [null], topLogprobs: [[]] },
    ])
  })

  it('an empty id list still marks the ids as received, and is aligned with no logprobs', () => {
    for (const logprobsRequested of [false, true]) {
      const { state, events } = choice({ logprobsRequested })
      state.addTokens([], null)
      expect(state.tokenIds).toEqual([])
      expect(state.logprobs).toBeNull()
      expect(state.logprobsAligned).toBe(logprobsRequested)
      expect(events.size).toBe(0)
    }
  })

  it('keeps no alternatives when none were requested, in the state and in events', () => {
    const { state, events } = choice({ topLogprobsRequested: false })
    state.addTokens([1], [entry(-0.5, 'a', [{ token: 'b', logprob: -2, tokenId: null }])])
    expect(state.topLogprobs).toBeNull()
    expect(state.logprobs).toEqual([-0.5])
    expect(events.take()).toEqual([
      { type: 'token-delta', choiceIndex: 0, tokenIds: [1], logprobs: [-0.5], topLogprobs: null },
    ])
  })

  it('ids without logprobs get explicit null logprobs, never a guess', () => {
    const { state, events } = choice({ topLogprobsRequested: true })
    state.addTokens([4, 5], null)
    expect(state.logprobs).toEqual([null, null])
    expect(state.topLogprobs).toEqual([[], []])
    expect(state.logprobsAligned).toBe(true)
    expect(events.take()).toEqual([
      {
        type: 'token-delta',
        choiceIndex: 0,
        tokenIds: [4, 5],
        logprobs: [null, null],
        topLogprobs: [[], []],
      },
    ])
  })

  it('without logprobs requested, ids carry none and the choice is never aligned', () => {
    const { state, events } = choice({ logprobsRequested: false })
    state.addTokens([1], [entry(-1)])
    expect(state.logprobs).toBeNull()
    expect(state.logprobsAligned).toBe(false)
    expect(events.take()).toEqual([
      { type: 'token-delta', choiceIndex: 0, tokenIds: [1], logprobs: null, topLogprobs: null },
    ])
  })

  it('logprobs without ids (not requested) are kept for the sampled tokens', () => {
    const { state } = choice({ topLogprobsRequested: true })
    state.addTokens(null, [entry(-1), entry(-2)])
    state.addTokens(null, null)
    expect(state.tokenIds).toBeNull()
    expect(state.logprobs).toEqual([-1, -2])
    expect(state.topLogprobs).toEqual([[], []])
    expect(state.logprobsAligned).toBe(true)
  })

  it('a chunk whose entries do not line up with its ids marks the choice misaligned for good', () => {
    const { state, events } = choice({ topLogprobsRequested: true })
    state.addTokens([1, 2], [entry(-1)])
    expect(state.logprobsMisaligned).toBe(true)
    // its event pairs the ids with nothing
    expect(events.take()).toEqual([
      { type: 'token-delta', choiceIndex: 0, tokenIds: [1, 2], logprobs: null, topLogprobs: null },
    ])
    state.addTokens([3], [entry(-3)])
    expect(state.logprobsAligned).toBe(false)
  })

  it('logprobs of chunks without ids make a choice with ids unaligned (counts differ)', () => {
    const { state } = choice()
    state.addTokens([1], [entry(-1)])
    state.addTokens(null, [entry(-2)])
    expect(state.logprobsMisaligned).toBe(false)
    expect(state.logprobsAligned).toBe(false)
  })

  it('cross-checks token_id:N logprob tokens with the ids, naming each disagreement by its position', () => {
    const { state } = choice({ tokensAsTokenIds: true })
    state.addTokens([7, 8], [entry(-1, 'token_id:7'), entry(-1, 'token_id:8')])
    state.addTokens([9, 10, 11], [entry(-1, 'token_id:9'), entry(-1, 'token_id:12'), entry(-1, 'x')])
    // a position without a token cannot be checked and is no disagreement
    state.addTokens([12], [entry(-1, null)])
    expect(state.logprobDisagreements).toEqual([
      'completion id 10 at position 3 disagrees with its logprob token "token_id:12"',
      'completion id 11 at position 4 disagrees with its logprob token "x"',
    ])
    expect(state.logprobsMisaligned).toBe(true)
    // without return_tokens_as_token_ids the tokens are text and are not compared
    const text = choice({ tokensAsTokenIds: false }).state
    text.addTokens([1], [entry(-1, 'token_id:2')])
    expect(text.logprobDisagreements).toEqual([])
    expect(text.logprobsAligned).toBe(true)
  })
})

describe('ChoiceState: finish', () => {
  it('keeps the reported reason and a number or string stop_reason, anything else as null', () => {
    const { state } = choice()
    expect(state.reportedFinishReason).toBeNull()
    state.finish('stop', 151643)
    expect([state.reportedFinishReason, state.stopReason]).toEqual(['stop', 151643])
    state.finish('stop', '</answer>')
    expect(state.stopReason).toBe('</answer>')
    for (const other of [null, undefined, {}, true]) {
      state.finish('length', other)
      expect(state.stopReason, String(other)).toBeNull()
    }
    expect(state.reportedFinishReason).toBe('length')
  })
})
