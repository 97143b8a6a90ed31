import { describeValue, isPlainObject } from './checks'
import { hasErrorMarker } from './error-marker'
import { VLLMTitoError } from './errors'

const invalidOptionSymbol = Symbol.for('vllm-tito.error.invalid-option')

/**
 * An option given to a vllm-tito constructor or function is missing, misspelt, of the wrong type or out of
 * range. Thrown before anything runs, by every package, with a message that names the call, the option and
 * what is allowed — a typo in a JavaScript or YAML config never becomes a silent default.
 */
export class InvalidOptionError extends VLLMTitoError {
  readonly [invalidOptionSymbol] = true
  override readonly name: string = 'InvalidOptionError'
  /** The call that was given the option, e.g. `new VLLMClient`. */
  readonly where: string
  /** The option's name (a dotted path for nested options), or `(options)` for the options value itself. */
  readonly option: string
  /** The accepted values, for options with a fixed set (and the known names, for an unknown option). */
  readonly allowed: readonly string[] | undefined

  constructor(where: string, option: string, message: string, allowed?: readonly string[]) {
    super(`${where}: ${message}`)
    this.where = where
    this.option = option
    this.allowed = allowed
  }

  static override isInstance(error: unknown): error is InvalidOptionError {
    return hasErrorMarker(error, invalidOptionSymbol)
  }
}

/** `{ required: true }` makes a reader throw when the option is absent instead of returning `undefined`. */
export interface RequiredOption {
  required: true
}

type Read<T, R> = R extends RequiredOption ? T : T | undefined

/**
 * Reads and checks an options object, one option at a time, throwing {@link InvalidOptionError} on the first
 * problem. `undefined` always means "not given" (the caller's default applies); `null` is a wrong type.
 *
 * @example
 * ```ts
 * const read = new OptionReader('new VLLMClient', options).rejectUnknown(['baseUrl', 'timeoutMs'])
 * const baseUrl = read.string('baseUrl', { required: true })
 * const timeoutMs = read.positiveNumber('timeoutMs') ?? 600_000
 * ```
 */
export class OptionReader {
  readonly #where: string
  readonly #options: Record<string, unknown>

  /** `options` may be `undefined` (no options); anything else but a plain object throws. */
  constructor(where: string, options: unknown) {
    this.#where = where
    if (options === undefined) {
      this.#options = {}
    } else if (isPlainObject(options)) {
      this.#options = options
    } else {
      throw new InvalidOptionError(
        where,
        '(options)',
        `options must be an object, got ${describeValue(options)}`,
      )
    }
  }

  /** Throws on any own key not in `known`, naming the closest known one when it looks like a typo. */
  rejectUnknown(known: readonly string[]): this {
    for (const key of Object.keys(this.#options)) {
      if (known.includes(key)) continue
      const suggestion = closestName(key, known)
      const hint = suggestion === undefined ? '' : ` (did you mean \`${suggestion}\`?)`
      throw new InvalidOptionError(
        this.#where,
        key,
        `unknown option \`${key}\`${hint}; known options: ${known.join(', ')}`,
        known,
      )
    }
    return this
  }

  /** The raw value of an option, unchecked. */
  raw(name: string): unknown {
    return this.#options[name]
  }

  /** A string; `{ nonEmpty: true }` also refuses `''`. */
  string<R extends { required?: true; nonEmpty?: boolean }>(name: string, rules?: R): Read<string, R> {
    return this.#read(name, rules, 'a string', (value) => {
      if (typeof value !== 'string') return false
      return rules?.nonEmpty !== true || value !== ''
    }) as Read<string, R>
  }

  /** `true` or `false`. */
  boolean<R extends { required?: true }>(name: string, rules?: R): Read<boolean, R> {
    return this.#read(name, rules, '`true` or `false`', (value) => typeof value === 'boolean') as Read<
      boolean,
      R
    >
  }

  /** One of a fixed set of strings. */
  oneOf<const T extends string, R extends { required?: true }>(
    name: string,
    allowed: readonly T[],
    rules?: R,
  ): Read<T, R> {
    const value = this.#options[name]
    if (value === undefined) return this.#absent(name, rules, `one of ${quoteAll(allowed)}`) as Read<T, R>
    if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T
    throw new InvalidOptionError(
      this.#where,
      name,
      `option \`${name}\` must be one of ${quoteAll(allowed)}, got ${describeValue(value)}`,
      allowed,
    )
  }

  /** A finite number greater than 0. */
  positiveNumber<R extends { required?: true }>(name: string, rules?: R): Read<number, R> {
    return this.#read(name, rules, 'a finite number greater than 0', (value) => {
      return typeof value === 'number' && Number.isFinite(value) && value > 0
    }) as Read<number, R>
  }

  /** A finite number (any sign). */
  finiteNumber<R extends { required?: true }>(name: string, rules?: R): Read<number, R> {
    return this.#read(name, rules, 'a finite number', (value) => {
      return typeof value === 'number' && Number.isFinite(value)
    }) as Read<number, R>
  }

  /** An integer from `minimum` (default 0) up, and at most `maximum` when given. */
  integer<R extends { required?: true; minimum?: number; maximum?: number }>(
    name: string,
    rules?: R,
  ): Read<number, R> {
    const minimum = rules?.minimum ?? 0
    const maximum = rules?.maximum ?? Number.MAX_SAFE_INTEGER
    const range = maximum === Number.MAX_SAFE_INTEGER ? `>= ${minimum}` : `from ${minimum} to ${maximum}`
    return this.#read(name, rules, `an integer ${range}`, (value) => {
      return Number.isSafeInteger(value) && (value as number) >= minimum && (value as number) <= maximum
    }) as Read<number, R>
  }

  /** A function. */
  function<F extends (...args: never[]) => unknown, R extends { required?: true }>(
    name: string,
    rules?: R,
  ): Read<F, R> {
    return this.#read(name, rules, 'a function', (value) => typeof value === 'function') as Read<F, R>
  }

  /** A plain object (not `null`, not an array). */
  object<R extends { required?: true }>(name: string, rules?: R): Read<Record<string, unknown>, R> {
    return this.#read(name, rules, 'an object', isPlainObject) as Read<Record<string, unknown>, R>
  }

  /** Any value accepted by `accepts`, described as `expected` in the error. */
  custom<T, R extends { required?: true }>(
    name: string,
    expected: string,
    accepts: (value: unknown) => value is T,
    rules?: R,
  ): Read<T, R> {
    return this.#read(name, rules, expected, accepts) as Read<T, R>
  }

  /** Throws {@link InvalidOptionError} for `name` with the given explanation. */
  fail(name: string, explanation: string, allowed?: readonly string[]): never {
    throw new InvalidOptionError(this.#where, name, explanation, allowed)
  }

  #read(
    name: string,
    rules: { required?: true } | undefined,
    expected: string,
    accepts: (value: unknown) => boolean,
  ): unknown {
    const value = this.#options[name]
    if (value === undefined) return this.#absent(name, rules, expected)
    if (accepts(value)) return value
    throw new InvalidOptionError(
      this.#where,
      name,
      `option \`${name}\` must be ${expected}, got ${describeValue(value)}`,
    )
  }

  #absent(name: string, rules: { required?: true } | undefined, expected: string): undefined {
    if (rules?.required === true) {
      throw new InvalidOptionError(this.#where, name, `option \`${name}\` is required (${expected})`)
    }
    return undefined
  }
}

function quoteAll(values: readonly string[]): string {
  return values.map((value) => `'${value}'`).join(', ')
}

/** The known name within edit distance 2 of `name` (case-insensitive), when there is exactly one best. */
function closestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = 3
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase())
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best
}

function editDistance(left: string, right: string): number {
  if (Math.abs(left.length - right.length) > 2) return 3
  let previous = Array.from({ length: right.length + 1 }, (_, index) => index)
  for (let row = 1; row <= left.length; row += 1) {
    const current = [row]
    for (let column = 1; column <= right.length; column += 1) {
      const substitution = previous[column - 1]! + (left[row - 1] === right[column - 1] ? 0 : 1)
      current.push(Math.min(previous[column]! + 1, current[column - 1]! + 1, substitution))
    }
    previous = current
  }
  return previous[right.length]!
}
