import { describe, expect, it } from 'vitest'
import { VLLMTitoError } from './errors'
import { InvalidOptionError, OptionReader } from './options'

function thrown(run: () => unknown): InvalidOptionError {
  try {
    run()
  } catch (error) {
    if (InvalidOptionError.isInstance(error)) return error
    throw error
  }
  throw new Error('expected an InvalidOptionError')
}

describe('OptionReader', () => {
  it('reads given options and returns undefined for absent ones', () => {
    const read = new OptionReader('new Thing', { name: 'x', count: 3, on: false })
    expect(read.string('name')).toBe('x')
    expect(read.integer('count', { minimum: 1 })).toBe(3)
    expect(read.boolean('on')).toBe(false)
    expect(read.positiveNumber('missing')).toBeUndefined()
    expect(new OptionReader('f', undefined).string('anything')).toBeUndefined()
  })

  it('names the call, the option, what was expected and what was given', () => {
    const error = thrown(() =>
      new OptionReader('new VLLMClient', { timeoutMs: -5 }).positiveNumber('timeoutMs'),
    )
    expect(error.message).toBe(
      'new VLLMClient: option `timeoutMs` must be a finite number greater than 0, got -5',
    )
    expect(error.option).toBe('timeoutMs')
    expect(error.where).toBe('new VLLMClient')
    expect(error).toBeInstanceOf(VLLMTitoError)
    expect(VLLMTitoError.isInstance(error)).toBe(true)
  })

  it('lists the allowed values of a fixed set', () => {
    const error = thrown(() => new OptionReader('f', { policy: 'thorw' }).oneOf('policy', ['flag', 'throw']))
    expect(error.message).toBe("f: option `policy` must be one of 'flag', 'throw', got the string \"thorw\"")
    expect(error.allowed).toEqual(['flag', 'throw'])
  })

  it('refuses null, which is never read as "not given"', () => {
    expect(thrown(() => new OptionReader('f', { name: null }).string('name')).message).toBe(
      'f: option `name` must be a string, got null',
    )
  })

  it('refuses a missing required option and an empty string where one is not allowed', () => {
    expect(thrown(() => new OptionReader('f', {}).string('model', { required: true })).message).toBe(
      'f: option `model` is required (a string)',
    )
    expect(() => new OptionReader('f', { model: '' }).string('model', { nonEmpty: true })).toThrow(
      'option `model` must be a string, got the string ""',
    )
  })

  it('suggests the closest known option for a misspelt one', () => {
    const error = thrown(() =>
      new OptionReader('new TrajectoryBuilder', { onBrake: 'throw' }).rejectUnknown([
        'onBreak',
        'unverified',
      ]),
    )
    expect(error.message).toBe(
      'new TrajectoryBuilder: unknown option `onBrake` (did you mean `onBreak`?); known options: onBreak, unverified',
    )
    expect(error.option).toBe('onBrake')
    expect(thrown(() => new OptionReader('f', { zzzzzz: 1 }).rejectUnknown(['a'])).message).toBe(
      'f: unknown option `zzzzzz`; known options: a',
    )
  })

  it('refuses options that are not an object', () => {
    for (const options of [null, 3, 'x', [1]]) {
      expect(thrown(() => new OptionReader('f', options)).option).toBe('(options)')
    }
  })

  it('checks integer ranges', () => {
    const read = new OptionReader('f', { retries: 1.5, big: 11 })
    expect(() => read.integer('retries')).toThrow('option `retries` must be an integer >= 0, got 1.5')
    expect(() => read.integer('big', { minimum: 1, maximum: 10 })).toThrow(
      'option `big` must be an integer from 1 to 10, got 11',
    )
  })
})
