import { describe, expect, it } from 'vitest'
import {
  describeValue,
  findTokenIdsProblem,
  isPlainObject,
  isTokenIdList,
  MAX_TOKEN_ID,
  sameIds,
  startsWithConcatenation,
  startsWithIds,
} from './checks'
import { unwrapInvalidJsonArguments, wrapInvalidJsonArguments } from './invalid-json-arguments'

describe('token id lists', () => {
  it('accept integers from 0 to 2^32 - 1 only', () => {
    expect(isTokenIdList([0, 1, MAX_TOKEN_ID])).toBe(true)
    expect(isTokenIdList([])).toBe(true)
    for (const bad of [-1, 1.5, MAX_TOKEN_ID + 1, Number.NaN, '3', null]) {
      expect(isTokenIdList([1, bad]), String(bad)).toBe(false)
    }
    expect(isTokenIdList('1,2')).toBe(false)
  })

  it('name the field and the first bad entry', () => {
    expect(findTokenIdsProblem([5, -1, 2.5], 'tokenIds')).toBe(
      'tokenIds[1] is -1, not a token id (an integer from 0 to 4294967295)',
    )
    expect(findTokenIdsProblem('[1]', 'prompt')).toBe('prompt is the string "[1]", not an array of token ids')
    expect(findTokenIdsProblem([1, 2], 'x')).toBeUndefined()
  })
})

describe('prefix comparison', () => {
  it('compares prefixes and concatenations exactly', () => {
    expect(startsWithIds([1, 2, 3], [1, 2])).toBe(true)
    expect(startsWithIds([1, 2, 3], [1, 3])).toBe(false)
    expect(startsWithIds([1], [1, 2])).toBe(false)
    expect(startsWithConcatenation([1, 2, 3, 4], [1, 2], [3])).toBe(true)
    // the last id of the second part counts
    expect(startsWithConcatenation([1, 2, 3, 4], [1, 2], [3, 5])).toBe(false)
    expect(startsWithConcatenation([1, 2], [1, 2], [3])).toBe(false)
    expect(sameIds([1, 2], [1, 2])).toBe(true)
    expect(sameIds([1, 2], [1, 2, 3])).toBe(false)
    expect(sameIds([1, 2, 3], [1, 2])).toBe(false)
    expect(sameIds([], [])).toBe(true)
    // a shorter list never starts with a longer one, even where it ends in the same ids
    expect(startsWithIds([], [1])).toBe(false)
    expect(startsWithConcatenation([1, 2], [1], [2, 3])).toBe(false)
    expect(startsWithConcatenation([1], [1, 2], [])).toBe(false)
    expect(startsWithConcatenation([1, 2], [], [])).toBe(true)
  })
})

describe('plain objects and the invalid-JSON wrapper', () => {
  it('tell objects from arrays and null', () => {
    expect(isPlainObject({})).toBe(true)
    expect(isPlainObject([])).toBe(false)
    expect(isPlainObject(null)).toBe(false)
  })

  it('wrap and unwrap raw arguments, and nothing else', () => {
    expect(unwrapInvalidJsonArguments(wrapInvalidJsonArguments('{"a": '))).toBe('{"a": ')
    expect(unwrapInvalidJsonArguments({ __vllm_invalid_json_arguments__: 3 })).toBeUndefined()
    expect(unwrapInvalidJsonArguments({ __vllm_invalid_json_arguments__: 'x', other: 1 })).toBeUndefined()
    expect(unwrapInvalidJsonArguments('x')).toBeUndefined()
  })
})

describe('describeValue', () => {
  it('names each kind of value with its article, strings quoted and cut at 40 characters', () => {
    expect(describeValue({ a: 1 })).toBe('an object')
    expect(describeValue([1])).toBe('an array')
    expect(describeValue(null)).toBe('null')
    expect(describeValue(undefined)).toBe('undefined')
    expect(describeValue(-2.5)).toBe('-2.5')
    expect(describeValue(() => 1)).toBe('a function')
    expect(describeValue(Symbol('s'))).toBe('a symbol')
    expect(describeValue('x'.repeat(41))).toBe(`the string "${'x'.repeat(40)}…"`)
  })
})
