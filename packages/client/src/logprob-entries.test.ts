import { describe, expect, it } from 'vitest'
import { parseTokenIdString, readChatLogprobs, readCompletionLogprobs } from './logprob-entries'
import { MalformedResponseError } from './wire-errors'

describe('parseTokenIdString', () => {
  it('reads the id of a whole `token_id:<digits>` string, and nothing else', () => {
    expect(parseTokenIdString('token_id:0')).toBe(0)
    expect(parseTokenIdString('token_id:151645')).toBe(151645)
    for (const other of [
      null,
      'hello',
      'token_id:',
      'token_id:12a',
      'xtoken_id:12',
      'token_id:-1',
      'token_id:1.5',
    ]) {
      expect(parseTokenIdString(other), String(other)).toBeNull()
    }
  })
})

describe('readChatLogprobs', () => {
  it('reads token, logprob and the alternatives of each position', () => {
    const entries = readChatLogprobs(
      {
        content: [
          {
            token: 'Hi',
            logprob: -0.5,
            bytes: [72, 105],
            top_logprobs: [
              { token: 'Hi', logprob: -0.5 },
              { token: 'Hey', logprob: -1.25 },
            ],
          },
          { token: '!', logprob: null },
        ],
      },
      false,
      'choices[0].logprobs',
    )
    expect(entries).toEqual([
      {
        token: 'Hi',
        logprob: -0.5,
        top: [
          { token: 'Hi', logprob: -0.5, tokenId: null },
          { token: 'Hey', logprob: -1.25, tokenId: null },
        ],
      },
      { token: '!', logprob: null, top: [] },
    ])
  })

  it('with return_tokens_as_token_ids the alternatives carry their ids', () => {
    const entries = readChatLogprobs(
      {
        content: [
          {
            token: 'token_id:9',
            logprob: -0.1,
            top_logprobs: [
              { token: 'token_id:9', logprob: -0.1 },
              { token: 'odd', logprob: -2 },
            ],
          },
        ],
      },
      true,
      'f',
    )
    expect(entries).toEqual([
      {
        token: 'token_id:9',
        logprob: -0.1,
        top: [
          { token: 'token_id:9', logprob: -0.1, tokenId: 9 },
          { token: 'odd', logprob: -2, tokenId: null },
        ],
      },
    ])
  })

  it('skips alternatives without a token or a logprob, and reads a missing token as null', () => {
    const entries = readChatLogprobs(
      {
        content: [
          {
            token: 5,
            logprob: undefined,
            top_logprobs: [
              null,
              'x',
              { logprob: -1 },
              { token: 3, logprob: -1 },
              { token: 'a' },
              { token: 'b', logprob: -3 },
            ],
          },
          { token: 'c', logprob: -1, top_logprobs: 'not a list' },
        ],
      },
      false,
      'f',
    )
    expect(entries).toEqual([
      { token: null, logprob: null, top: [{ token: 'b', logprob: -3, tokenId: null }] },
      { token: 'c', logprob: -1, top: [] },
    ])
  })

  it('is null when the chunk carries none: null, absent, not an object, no or an empty content', () => {
    for (const none of [null, undefined, 'x', [], {}, { content: null }, { content: {} }, { content: [] }]) {
      expect(readChatLogprobs(none, false, 'f'), JSON.stringify(none)).toBeNull()
    }
  })

  it('rejects what vLLM never sends, naming the field and position', () => {
    expect(() =>
      readChatLogprobs({ content: [{ token: 'a', logprob: -1 }, 7] }, false, 'choices[0].logprobs'),
    ).toThrow(new MalformedResponseError('choices[0].logprobs.content[1] is not an object'))
    expect(() =>
      readChatLogprobs({ content: [{ token: 'a', logprob: '-1' }] }, false, 'choices[0].logprobs'),
    ).toThrow(new MalformedResponseError('choices[0].logprobs.content[0].logprob is not a number'))
    expect(() =>
      readChatLogprobs(
        { content: [{ token: 'a', logprob: -1, top_logprobs: [{ token: 'b', logprob: 'x' }] }] },
        false,
        'c',
      ),
    ).toThrow(new MalformedResponseError('c.content[0].top_logprobs[].logprob is not a number'))
  })
})

describe('readCompletionLogprobs', () => {
  it('reads tokens, token_logprobs and the top_logprobs maps position by position', () => {
    const entries = readCompletionLogprobs(
      {
        text_offset: [0, 2],
        tokens: ['Hi', '!'],
        token_logprobs: [-0.5, null],
        top_logprobs: [{ Hi: -0.5, Hey: -1.5 }, null],
      },
      false,
      'choices[0].logprobs',
    )
    expect(entries).toEqual([
      {
        token: 'Hi',
        logprob: -0.5,
        top: [
          { token: 'Hi', logprob: -0.5, tokenId: null },
          { token: 'Hey', logprob: -1.5, tokenId: null },
        ],
      },
      { token: '!', logprob: null, top: [] },
    ])
  })

  it('with return_tokens_as_token_ids the alternatives carry their ids; null alternatives are skipped', () => {
    expect(
      readCompletionLogprobs(
        {
          tokens: ['token_id:4'],
          token_logprobs: [-1],
          top_logprobs: [{ 'token_id:4': -1, 'token_id:8': null }],
        },
        true,
        'f',
      ),
    ).toEqual([{ token: 'token_id:4', logprob: -1, top: [{ token: 'token_id:4', logprob: -1, tokenId: 4 }] }])
  })

  it('without tokens or top_logprobs lists the positions with null tokens and no alternatives', () => {
    expect(
      readCompletionLogprobs({ token_logprobs: [-1, -2], tokens: null, top_logprobs: 'x' }, false, 'f'),
    ).toEqual([
      { token: null, logprob: -1, top: [] },
      { token: null, logprob: -2, top: [] },
    ])
    // a token that is not a string is read as none
    expect(readCompletionLogprobs({ token_logprobs: [-1], tokens: [3] }, false, 'f')).toEqual([
      { token: null, logprob: -1, top: [] },
    ])
  })

  it('is null when the chunk carries none', () => {
    for (const none of [
      null,
      undefined,
      'x',
      [],
      {},
      { token_logprobs: null },
      { token_logprobs: {} },
      { token_logprobs: [] },
    ]) {
      expect(readCompletionLogprobs(none, false, 'f'), JSON.stringify(none)).toBeNull()
    }
  })

  it('rejects a logprob that is not a number, naming the field and position', () => {
    expect(() =>
      readCompletionLogprobs({ tokens: ['a', 'b'], token_logprobs: [-1, 'x'] }, false, 'choices[0].logprobs'),
    ).toThrow(new MalformedResponseError('choices[0].logprobs.token_logprobs[1] is not a number'))
    expect(() =>
      readCompletionLogprobs(
        { tokens: ['a'], token_logprobs: [-1], top_logprobs: [{ a: true }] },
        false,
        'c',
      ),
    ).toThrow(new MalformedResponseError('c.top_logprobs[0] is not a number'))
  })
})
