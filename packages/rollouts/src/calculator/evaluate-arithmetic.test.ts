import { describe, expect, it } from 'vitest'
import { ArithmeticError, evaluateArithmetic } from './evaluate-arithmetic'

describe('evaluateArithmetic', () => {
  it('evaluates the operators with the usual precedence and associativity', () => {
    expect(evaluateArithmetic('17 * 23')).toBe(391)
    expect(evaluateArithmetic('1 + 2 * 3')).toBe(7)
    expect(evaluateArithmetic('(1 + 2) * 3')).toBe(9)
    expect(evaluateArithmetic('2 ^ 3 ^ 2')).toBe(512)
    expect(evaluateArithmetic('2 ** 10')).toBe(1024)
    expect(evaluateArithmetic('10 - 4 - 3')).toBe(3)
    expect(evaluateArithmetic('-3 + +5')).toBe(2)
    expect(evaluateArithmetic('-2 ^ 2')).toBe(-4)
    expect(evaluateArithmetic('2 ^ -1')).toBe(0.5)
    expect(evaluateArithmetic('17 % 5')).toBe(2)
    expect(evaluateArithmetic('1.5e3 / .5')).toBe(3000)
    expect(evaluateArithmetic('6 × 7 ÷ 2')).toBe(21)
  })

  it('refuses anything that is not arithmetic, naming the position', () => {
    expect(() => evaluateArithmetic('process.exit(1)')).toThrow(
      new ArithmeticError('cannot evaluate "process.exit(1)": expected a number at position 0'),
    )
    expect(() => evaluateArithmetic('(1 + 2')).toThrow('cannot evaluate "(1 + 2": missing ) at position 6')
    expect(() => evaluateArithmetic('1 + 2)')).toThrow(
      'cannot evaluate "1 + 2)": unexpected ")" at position 5',
    )
    expect(() => evaluateArithmetic('2 *')).toThrow('the expression ends too early at position 3')
    expect(() => evaluateArithmetic('1 / 0')).toThrow('1 / 0 does not evaluate to a finite number')
    expect(() => evaluateArithmetic(`${'('.repeat(100)}1${')'.repeat(100)}`)).toThrow(
      'nested deeper than 64 levels',
    )
    expect(() => evaluateArithmetic('1+'.repeat(300))).toThrow('the expression is longer than 500 characters')
  })
})
