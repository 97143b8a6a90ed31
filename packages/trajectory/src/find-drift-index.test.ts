import { describe, expect, it } from 'vitest'
import { findDriftIndex, startsWithIds } from './find-drift-index'

describe('findDriftIndex', () => {
  it('finds the first differing position', () => {
    expect(findDriftIndex([1, 2, 3], [1, 2, 4])).toBe(2)
    expect(findDriftIndex([9], [1])).toBe(0)
  })
  it('returns the shorter length when one is a prefix of the other', () => {
    expect(findDriftIndex([1, 2], [1, 2, 3])).toBe(2)
    expect(findDriftIndex([1, 2, 3], [1, 2])).toBe(2)
    expect(findDriftIndex([], [5])).toBe(0)
  })
  it('returns -1 for equal sequences', () => {
    expect(findDriftIndex([1, 2], [1, 2])).toBe(-1)
    expect(findDriftIndex([], [])).toBe(-1)
  })
})

describe('startsWithIds', () => {
  it('checks an id prefix', () => {
    expect(startsWithIds([1, 2, 3], [1, 2])).toBe(true)
    expect(startsWithIds([1, 2, 3], [])).toBe(true)
    expect(startsWithIds([1, 2], [1, 2, 3])).toBe(false)
    expect(startsWithIds([1, 3, 3], [1, 2])).toBe(false)
  })
})
