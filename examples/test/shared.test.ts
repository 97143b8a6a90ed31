import { describe, expect, it } from 'vitest'
import { evaluateArithmetic } from '../src/shared/calculator-tool'
import { abbreviateIds, formatTable } from '../src/shared/format-table'

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
