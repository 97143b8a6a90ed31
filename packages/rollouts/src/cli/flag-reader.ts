import { parseArgs } from 'node:util'
import { InvalidOptionError, isPlainObject } from '@vllm-tito/spec'

/** The flags of one command: each name with its kind, as `node:util` `parseArgs` takes them. */
export type FlagSpec = Record<string, { type: 'string' | 'boolean' }>

/**
 * Reads a command's flags with `parseArgs` and checks each value, throwing spec's `InvalidOptionError` naming the
 * flag (`--group-size`) and what it takes — an unknown flag, a missing value or a bad number never becomes a
 * silent default.
 */
export class FlagReader {
  readonly #where: string
  readonly #values: Record<string, string | boolean | undefined>

  constructor(where: string, argv: readonly string[], spec: FlagSpec) {
    this.#where = where
    try {
      this.#values = parseArgs({ args: [...argv], options: spec, strict: true, allowPositionals: false })
        .values as Record<string, string | boolean | undefined>
    } catch (error) {
      const known = Object.keys(spec).map((name) => `--${name}`)
      throw new InvalidOptionError(
        where,
        '(flags)',
        `${(error as Error).message}; known flags: ${known.join(', ')}`,
        known,
      )
    }
  }

  /** A string flag, or `undefined`. */
  string(name: string, rules: { required?: boolean } = {}): string | undefined {
    const value = this.#values[name]
    if (value === undefined) {
      if (rules.required) this.#fail(name, `--${name} is required`)
      return undefined
    }
    if (typeof value !== 'string' || value === '') this.#fail(name, `--${name} needs a value`)
    return value
  }

  /** A boolean flag: `true` when given. */
  flag(name: string): boolean {
    return this.#values[name] === true
  }

  /** An integer flag within `minimum…maximum`, or `undefined`. */
  integer(name: string, minimum: number, maximum = Number.MAX_SAFE_INTEGER): number | undefined {
    const text = this.string(name)
    if (text === undefined) return undefined
    const value = Number(text)
    if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(value) || value < minimum || value > maximum) {
      const range = maximum === Number.MAX_SAFE_INTEGER ? `>= ${minimum}` : `from ${minimum} to ${maximum}`
      this.#fail(name, `--${name} must be an integer ${range}, got ${JSON.stringify(text)}`)
    }
    return value
  }

  /** A number flag greater than 0 (and at most `maximum` when given), or `undefined`. */
  positiveNumber(name: string, maximum?: number): number | undefined {
    const text = this.string(name)
    if (text === undefined) return undefined
    const value = Number(text)
    if (!Number.isFinite(value) || value <= 0 || (maximum !== undefined && value > maximum)) {
      const range = maximum === undefined ? '' : ` and at most ${maximum}`
      this.#fail(name, `--${name} must be a number greater than 0${range}, got ${JSON.stringify(text)}`)
    }
    return value
  }

  /** One of `allowed`, or `undefined`. */
  oneOf<const T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const text = this.string(name)
    if (text === undefined) return undefined
    if (!(allowed as readonly string[]).includes(text)) {
      this.#fail(name, `--${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(text)}`, allowed)
    }
    return text as T
  }

  /** A JSON object flag, or `undefined`. */
  jsonObject(name: string): Record<string, unknown> | undefined {
    const text = this.string(name)
    if (text === undefined) return undefined
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      this.#fail(name, `--${name} must be a JSON object, got ${JSON.stringify(text)}`)
    }
    if (!isPlainObject(value))
      this.#fail(name, `--${name} must be a JSON object, got ${JSON.stringify(text)}`)
    return value
  }

  /** Throws `InvalidOptionError` for flag `name`. */
  fail(name: string, explanation: string): never {
    this.#fail(name, explanation)
  }

  #fail(name: string, explanation: string, allowed?: readonly string[]): never {
    throw new InvalidOptionError(this.#where, `--${name}`, explanation, allowed)
  }
}
