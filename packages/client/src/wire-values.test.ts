import { describe, expect, it } from 'vitest'
import { MalformedResponseError } from './wire-errors'
import { isIndex, readOptionalTokenIds, readTokenIds, readUsage } from './wire-values'

describe('readTokenIds and readOptionalTokenIds', () => {
  it('return the list itself, null for null, and name the field and the bad entry otherwise', () => {
    const ids = [0, 151645]
    expect(readTokenIds(ids, 'token_ids')).toBe(ids)
    expect(readTokenIds(null, 'token_ids')).toBeNull()
    expect(() => readTokenIds([1, -1], 'choices[0].token_ids')).toThrow(
      new MalformedResponseError(
        'choices[0].token_ids[1] is -1, not a token id (an integer from 0 to 4294967295)',
      ),
    )
    expect(() => readTokenIds('1,2', 'prompt_token_ids')).toThrow(
      'prompt_token_ids is the string "1,2", not an array of token ids',
    )
  })

  it('an absent key reads as null; a present one is checked', () => {
    expect(readOptionalTokenIds(undefined, 'token_ids')).toBeNull()
    expect(readOptionalTokenIds(null, 'token_ids')).toBeNull()
    expect(readOptionalTokenIds([7], 'token_ids')).toEqual([7])
    expect(() => readOptionalTokenIds({}, 'token_ids')).toThrow(
      'token_ids is an object, not an array of token ids',
    )
  })
})

describe('isIndex', () => {
  it('accepts integers from 0 below a million, nothing else', () => {
    for (const index of [0, 1, 999_999]) expect(isIndex(index), String(index)).toBe(true)
    for (const bad of [
      -1,
      1.5,
      1_000_000,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      '0',
      null,
      undefined,
      true,
    ]) {
      expect(isIndex(bad), String(bad)).toBe(false)
    }
  })
})

describe('readUsage', () => {
  it('reads the three counts, computing total_tokens when absent or not a count', () => {
    expect(readUsage({ prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 })).toEqual({
      promptTokens: 3,
      completionTokens: 5,
      totalTokens: 8,
    })
    // the server's total is kept as sent
    expect(readUsage({ prompt_tokens: 3, completion_tokens: 5, total_tokens: 9 }).totalTokens).toBe(9)
    expect(readUsage({ prompt_tokens: 3, completion_tokens: 5 }).totalTokens).toBe(8)
    expect(readUsage({ prompt_tokens: 3, completion_tokens: 5, total_tokens: -1 }).totalTokens).toBe(8)
    expect(readUsage({ prompt_tokens: 0, completion_tokens: 0 })).toEqual({
      promptTokens: 0,
      completionTokens: 0,
      totalTokens: 0,
    })
  })

  it('names the field that is not a count (an integer from 0)', () => {
    expect(() => readUsage([])).toThrow(new MalformedResponseError('`usage` is not an object'))
    expect(() => readUsage(null)).toThrow('`usage` is not an object')
    for (const bad of [-1, 1.5, '3', null, undefined]) {
      expect(() => readUsage({ prompt_tokens: bad, completion_tokens: 1 }), String(bad)).toThrow(
        new MalformedResponseError('usage.prompt_tokens is not a token count'),
      )
      expect(() => readUsage({ prompt_tokens: 1, completion_tokens: bad }), String(bad)).toThrow(
        new MalformedResponseError('usage.completion_tokens is not a token count'),
      )
    }
  })
})
