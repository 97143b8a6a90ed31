import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DEFAULT_PROPERTY_SEED, propertySeedFrom, reportWithSeed } from '../vitest.setup.ts'
import { sharedTestConfig } from '../vitest.shared.ts'

/** The message a failing property run reports through `reportWithSeed`. */
function failureMessage(seed: number): { message: string; cause: unknown } {
  try {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), (value) => {
        expect(value).toBeLessThan(500)
      }),
      { seed, reporter: reportWithSeed(seed) },
    )
  } catch (error) {
    return { message: (error as Error).message, cause: (error as Error).cause }
  }
  throw new Error('the property did not fail')
}

describe('the shared property-test setup', () => {
  it('reads FC_SEED: unset or blank is the default seed, an integer is used as given, anything else throws', () => {
    expect(propertySeedFrom(undefined)).toBe(DEFAULT_PROPERTY_SEED)
    expect(propertySeedFrom(' ')).toBe(DEFAULT_PROPERTY_SEED)
    expect(propertySeedFrom('-17')).toBe(-17)
    expect(Number.isSafeInteger(propertySeedFrom('random'))).toBe(true)
    expect(() => propertySeedFrom('1.5')).toThrow('FC_SEED must be an integer or "random", not "1.5"')
    expect(() => propertySeedFrom('abc')).toThrow('FC_SEED must be an integer or "random", not "abc"')
  })

  it('every package test project loads it, and it fixes the global seed and reporter', () => {
    const setupFile = fileURLToPath(new URL('../vitest.setup.ts', import.meta.url))
    expect(sharedTestConfig('any').test?.setupFiles).toEqual([setupFile])
    // this file imported the setup, which configured the global fast-check parameters
    const global = fc.readConfigureGlobal()
    expect(global.seed).toBe(propertySeedFrom(process.env.FC_SEED))
    expect(global.reporter).toBeTypeOf('function')
  })

  it('a failure names the seed and how to rerun it, keeps the assertion as its cause, and reproduces', () => {
    const first = failureMessage(42)
    expect(first.message).toContain('{ seed: 42, path: ')
    expect(first.message).toContain('Counterexample: [500]')
    expect(first.message.endsWith('\n\nProperty tests ran with seed 42: rerun with FC_SEED=42')).toBe(true)
    expect(String(first.cause)).toContain('expected 500 to be less than 500')
    // the same seed gives the same run, down to the shrinking path
    expect(failureMessage(42).message).toBe(first.message)
  })

  it('a passing run reports nothing', () => {
    const report = reportWithSeed<[number]>(1)
    let reports = 0
    const counting = (details: fc.RunDetails<[number]>) => {
      reports += 1
      report(details)
    }
    expect(() =>
      fc.assert(
        fc.property(fc.integer(), (value) => Number.isInteger(value)),
        { seed: 1, reporter: counting },
      ),
    ).not.toThrow()
    expect(reports).toBe(1)
  })
})
