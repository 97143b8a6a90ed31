import { describe, expect, it } from 'vitest'
import { findDriftIndex } from './find-drift-index'

describe('findDriftIndex', () => {
  it('finds the first differing position', () => {
    expect(findDriftIndex([1, 2, 3], [1, 2, 4])).toBe(2)
    expect(findDriftIndex([9], [1])).toBe(0)
  })
  it('returns the shorter length when one is a prefix of the other', () => {
    expect(findDriftIndex([1, 2], [1, 2, 3])).toBe(2)
    expect(findDriftIndex([1, 2, 3], [1, 2])).toBe(2)
    expect(findDriftIndex([], [5])).toBe(0)
    expect(findDriftIndex([5], [])).toBe(0)
  })
  it('returns -1 for equal sequences', () => {
    expect(findDriftIndex([1, 2], [1, 2])).toBe(-1)
    expect(findDriftIndex([], [])).toBe(-1)
  })
})
