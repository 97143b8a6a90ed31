import { describe, expect, it } from 'vitest'
import { chatSettings, testTiming } from './__fixtures__/response-settings'
import { buildRecords } from './build-records'
import type { ResponseSettings } from './response-settings'
import { ResponseState } from './response-state'

const timing = testTiming

function settings(overrides: Partial<ResponseSettings> = {}): ResponseSettings {
  return chatSettings({ streaming: false, ...overrides })
}

function recordsOf(overrides: Partial<ResponseSettings>, ...chunks: unknown[]) {
  const response = new ResponseState(settings(overrides))
  for (const chunk of chunks) response.apply(chunk)
  return { response, records: buildRecords(response, { timing, complete: true }) }
}

const usage = (prompt: number, completion: number) => ({
  prompt_tokens: prompt,
  completion_tokens: completion,
  total_tokens: prompt + completion,
})

describe('buildRecords', () => {
  it('one record per choice, in index order, verified against usage summed over the choices', () => {
    const { records } = recordsOf(
      { choicesPerPrompt: 2, choiceCount: 2 },
      {
        id: 'chatcmpl-n2',
        model: 'served',
        prompt_token_ids: [1, 2],
        choices: [
          {
            index: 1,
            message: { content: 'B' },
            finish_reason: 'stop',
            stop_reason: null,
            token_ids: [7, 8, 9],
          },
          { index: 0, message: { content: 'A' }, finish_reason: 'length', stop_reason: null, token_ids: [5] },
        ],
        usage: usage(2, 4),
      },
    )
    expect(
      records.map((record) => [record.choiceIndex, record.text, record.tokenIds, record.finishReason]),
    ).toEqual([
      [0, 'A', [5], 'length'],
      [1, 'B', [7, 8, 9], 'stop'],
    ])
    for (const record of records) {
      expect(record).toMatchObject({
        schemaVersion: 1,
        kind: 'chat',
        responseId: 'chatcmpl-n2',
        model: 'served',
        promptTokenIds: [1, 2],
        usage: { promptTokens: 2, completionTokens: 4, totalTokens: 6 },
        timing,
        complete: true,
      })
      expect(record.verification).toMatchObject({
        status: 'verified',
        promptIdsCount: 2,
        completionIdsCount: 4,
      })
    }
    // each record holds its own copies, so changing one never changes another
    expect(records[0]!.promptTokenIds).not.toBe(records[1]!.promptTokenIds)
    expect(records[0]!.usage).not.toBe(records[1]!.usage)
  })

  it('without usage the record says so (usage null), and the model falls back to the requested one', () => {
    const { records } = recordsOf(
      { requestedModel: 'asked' },
      {
        choices: [{ index: 0, message: { content: 'x' }, finish_reason: 'stop', token_ids: [1] }],
        prompt_token_ids: [3],
      },
    )
    expect(records[0]).toMatchObject({ responseId: null, model: 'asked', usage: null })
    expect(records[0]!.verification.status).toBe('unverifiable')
  })

  it('tool calls are listed by index whatever order they arrived in; the state keeps arrival order', () => {
    const { response, records } = recordsOf(
      { streaming: true },
      {
        id: 'c',
        prompt_token_ids: [1],
        choices: [
          {
            index: 0,
            delta: { tool_calls: [{ index: 2, id: 't2', function: { name: 'c', arguments: '{}' } }] },
          },
        ],
      },
      {
        id: 'c',
        choices: [
          {
            index: 0,
            delta: { tool_calls: [{ index: 0, id: 't0', function: { name: 'a', arguments: '' } }] },
          },
        ],
      },
      {
        id: 'c',
        choices: [
          {
            index: 0,
            delta: { tool_calls: [{ index: 1, id: 't1', function: { name: 'b', arguments: '{"x":1}' } }] },
            finish_reason: 'tool_calls',
          },
        ],
      },
    )
    // hermes' parameterless `{}` is restored for the call that sent no arguments
    expect(records[0]!.toolCalls).toEqual([
      { index: 0, id: 't0', name: 'a', arguments: '{}' },
      { index: 1, id: 't1', name: 'b', arguments: '{"x":1}' },
      { index: 2, id: 't2', name: 'c', arguments: '{}' },
    ])
    expect(response.choices[0]!.toolCalls.map((call) => call.index)).toEqual([2, 0, 1])
    expect(response.choices[0]!.lastToolArguments).toBe('{"x":1}')
  })

  it('logprobs that do not line up leave out the alternatives too, even when they were requested', () => {
    const content = (...logprobs: number[]) => ({
      content: logprobs.map((logprob) => ({
        token: 'a',
        logprob,
        top_logprobs: [{ token: 'b', logprob: -9 }],
      })),
    })
    const { records } = recordsOf(
      { logprobsRequested: true, topLogprobsRequested: true, streaming: true },
      {
        id: 'c',
        prompt_token_ids: [1],
        choices: [{ index: 0, delta: { content: 'x' }, token_ids: [5, 6], logprobs: content(-1) }],
      },
      {
        id: 'c',
        choices: [{ index: 0, delta: {}, finish_reason: 'stop', token_ids: [7], logprobs: content(-2, -3) }],
      },
    )
    expect(records[0]!.logprobs).toBeNull()
    expect(records[0]!.topLogprobs).toBeNull()
    // also when the alternatives of an earlier, aligned chunk were kept
    const later = recordsOf(
      { logprobsRequested: true, topLogprobsRequested: true, streaming: true },
      {
        id: 'c',
        prompt_token_ids: [1],
        choices: [{ index: 0, delta: {}, token_ids: [5], logprobs: content(-1) }],
      },
      {
        id: 'c',
        choices: [{ index: 0, delta: {}, finish_reason: 'stop', token_ids: [6, 7], logprobs: content(-2) }],
      },
    ).records[0]!
    expect([later.logprobs, later.topLogprobs]).toEqual([null, null])
    // lined up, both are kept
    const aligned = recordsOf(
      { logprobsRequested: true, topLogprobsRequested: true },
      {
        id: 'c',
        prompt_token_ids: [1],
        choices: [
          {
            index: 0,
            message: { content: 'x' },
            token_ids: [5],
            logprobs: content(-1),
            finish_reason: 'stop',
          },
        ],
      },
    ).records[0]!
    expect(aligned.logprobs).toEqual([-1])
    expect(aligned.topLogprobs).toEqual([[{ token: 'b', logprob: -9, tokenId: null }]])
  })

  it('an interrupted response gives records marked incomplete with the reason', () => {
    const response = new ResponseState(settings({ streaming: true }))
    response.apply({
      id: 'c',
      prompt_token_ids: [1],
      choices: [{ index: 0, delta: { content: 'x' }, token_ids: [5] }],
    })
    const [record] = buildRecords(response, {
      timing,
      complete: false,
      interruption: 'the connection dropped',
    })
    expect(record).toMatchObject({ complete: false, finishReason: null, tokenIds: [5] })
    expect(record!.verification.issues).toEqual([
      'the call did not finish (the connection dropped): the ids are only what arrived before the failure',
    ])
    const [unnamed] = buildRecords(response, { timing, complete: false })
    expect(unnamed!.verification.issues[0]).toBe(
      'the call did not finish (interrupted): the ids are only what arrived before the failure',
    )
  })
})

describe('buildRecords: completions batches', () => {
  const completion = (overrides: Partial<ResponseSettings> = {}) =>
    settings({ kind: 'completion', choicesPerPrompt: 2, choiceCount: 4, ...overrides })

  it('counts each prompt once against usage.prompt_tokens, and each choice its own prompt ids', () => {
    const choice = (index: number, promptIds: number[], ids: number[]) => ({
      index,
      text: `t${index}`,
      finish_reason: 'stop',
      prompt_token_ids: promptIds,
      token_ids: ids,
    })
    const { records } = recordsOf(completion(), {
      id: 'cmpl',
      choices: [
        choice(0, [1, 2, 3], [10]),
        choice(1, [1, 2, 3], [11]),
        choice(2, [4], [12]),
        choice(3, [4], [13, 14]),
      ],
      usage: usage(4, 5),
    })
    expect(records.map((record) => record.promptTokenIds)).toEqual([[1, 2, 3], [1, 2, 3], [4], [4]])
    for (const record of records) {
      expect(record.kind).toBe('completion')
      expect(record.verification).toMatchObject({
        status: 'verified',
        promptIdsCount: 4,
        completionIdsCount: 5,
      })
    }
  })

  it('without prompt ids nothing is counted: the records are unavailable with a null prompt count', () => {
    const { records } = recordsOf(completion({ choicesPerPrompt: 1, choiceCount: 2 }), {
      id: 'cmpl',
      choices: [
        { index: 0, text: 'a', finish_reason: 'stop', prompt_token_ids: null, token_ids: [10] },
        { index: 1, text: 'b', finish_reason: 'stop', token_ids: [11] },
      ],
      usage: usage(2, 2),
    })
    for (const record of records) {
      expect(record.promptTokenIds).toBeNull()
      expect(record.verification).toMatchObject({
        status: 'unavailable',
        promptIdsCount: null,
        completionIdsCount: 2,
      })
    }
  })

  it('a choice whose prompt sent no ids does not count, the others do', () => {
    const { records } = recordsOf(completion({ choicesPerPrompt: 1, choiceCount: 2 }), {
      id: 'cmpl',
      choices: [
        { index: 0, text: 'a', finish_reason: 'stop', token_ids: [10] },
        { index: 1, text: 'b', finish_reason: 'stop', prompt_token_ids: [5, 6], token_ids: [11] },
      ],
      usage: usage(3, 2),
    })
    expect(records[1]!.verification).toMatchObject({ promptIdsCount: 2, usagePromptTokens: 3 })
  })
})
