import { describe, expect, it } from 'vitest'
import { environmentFromMap } from '../src/shared/agent-process'
import { evaluateArithmetic } from '../src/shared/calculator-tool'
import { abbreviateIds, formatTable } from '../src/shared/format-table'
import { RolloutTaskError, readRolloutTask, rewardFor } from '../src/shared/rollout-task'

describe('evaluateArithmetic (mathjs, never eval)', () => {
  it('evaluates arithmetic', () => {
    expect(evaluateArithmetic('17 * 23')).toBe('391')
    expect(evaluateArithmetic('(128 + 256) / 2 ^ 2')).toBe('96')
  })

  it('rejects results that are not finite numbers, and code', () => {
    expect(() => evaluateArithmetic('1 / 0')).toThrow('expression did not evaluate to a finite number: 1 / 0')
    expect(() => evaluateArithmetic('[1, 2]')).toThrow(
      'expression did not evaluate to a finite number: [1, 2]',
    )
    expect(() => evaluateArithmetic('process.exit(1)')).toThrow()
    expect(() => evaluateArithmetic('import("node:fs")')).toThrow()
  })
})

describe('formatTable', () => {
  it('right-aligns numeric columns and left-aligns text', () => {
    expect(
      formatTable(
        ['call', 'status'],
        [
          [0, 'yes'],
          [10, 'no (mismatch)'],
        ],
      ),
    ).toBe(['call  status', '----  -------------', '   0  yes', '  10  no (mismatch)'].join('\n'))
  })

  it('abbreviates long id lists, keeping the count', () => {
    expect(abbreviateIds([1, 2, 3])).toBe('[1, 2, 3] (3 ids)')
    expect(abbreviateIds([1, 2, 3, 4, 5, 6, 7], 2)).toBe('[1, 2, …, 6, 7] (7 ids)')
  })
})

describe('readRolloutTask and rewardFor (the agent Agent Lightning runs)', () => {
  it('reads QUESTION and ANSWER, or RESULT as calc_x names it, trimmed', () => {
    expect(readRolloutTask({ QUESTION: ' What is 2+3? ', ANSWER: ' 5\n' })).toEqual({
      question: 'What is 2+3?',
      answer: '5',
    })
    expect(readRolloutTask({ QUESTION: 'q', RESULT: '2/3' })).toEqual({ question: 'q', answer: '2/3' })
    expect(readRolloutTask({ QUESTION: 'q', ANSWER: '1', RESULT: '2' }).answer).toBe('1')
  })

  it('names every missing or empty variable', () => {
    const error = (() => {
      try {
        readRolloutTask({ QUESTION: '  ', RESULT: '' })
      } catch (caught) {
        return caught as RolloutTaskError
      }
      return undefined
    })()
    expect(error).toBeInstanceOf(RolloutTaskError)
    expect(error?.problems).toEqual([
      'QUESTION: is empty (the question to answer)',
      'RESULT: is empty (the expected answer; RESULT is read when ANSWER is not set)',
    ])
  })

  it('rewards 1 when the final answer contains the expected one', () => {
    expect(rewardFor('17 * 23 is 391.', '391')).toBe(1)
    expect(rewardFor('17 * 23 is 392.', '391')).toBe(0)
    expect(rewardFor('', '391')).toBe(0)
  })
})

describe('environmentFromMap (local mode env_map)', () => {
  it('passes strings as they are and other values as JSON, following dotted paths into input', () => {
    const input = { question: 'What is 75° minus 15°?', answer: 60, meta: { tags: ['a'] } }
    expect(
      environmentFromMap(input, {
        QUESTION: 'input.question',
        ANSWER: 'input.answer',
        TAGS: 'input.meta.tags',
      }),
    ).toEqual({ QUESTION: 'What is 75° minus 15°?', ANSWER: '60', TAGS: '["a"]' })
  })

  it('refuses a path the input does not have', () => {
    expect(() => environmentFromMap({ question: 'q' }, { ANSWER: 'input.answer' })).toThrow(
      'local.env_map path not found: input.answer',
    )
    expect(() => environmentFromMap({ tags: ['a'] }, { TAG: 'input.tags.1' })).toThrow(
      'local.env_map path not found: input.tags.1',
    )
  })
})
