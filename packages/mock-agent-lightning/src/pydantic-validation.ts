import { isPlainObject } from '@vllm-tito/spec'

/** One entry of a FastAPI 422 body's `detail` list, in pydantic 2's shape. */
export interface ValidationIssue {
  /** pydantic's error type, e.g. `missing`, `string_type`. */
  type: string
  /** Where: `body` or `query`, then keys and list indices. */
  loc: Array<string | number>
  /** pydantic's message. */
  msg: string
  /** The value that failed (the containing object for `missing`). */
  input: unknown
  /** Details some types carry (`expected` of an enum, `class_name` of a model). */
  ctx?: Record<string, unknown>
}

/** Where a value sits in the request, e.g. `['body', 0, 'input']`. */
export type Location = Array<string | number>

/** Marks a value that failed validation (its issues were recorded). */
export const INVALID: unique symbol = Symbol('invalid')

/** Checks and converts one value the way pydantic's lax mode does, recording issues instead of throwing. */
export type Validator<T> = (value: unknown, loc: Location, issues: ValidationIssue[]) => T | typeof INVALID

/** `str`: strings only (pydantic 2 converts no other type to a string). */
export const str: Validator<string> = (value, loc, issues) => {
  if (typeof value === 'string') return value
  issues.push({ type: 'string_type', loc, msg: 'Input should be a valid string', input: value })
  return INVALID
}

const TRUE_WORDS = new Set(['1', 'on', 't', 'true', 'y', 'yes'])
const FALSE_WORDS = new Set(['0', 'off', 'f', 'false', 'n', 'no'])

/** `bool`: booleans, 0 and 1, and pydantic's yes/no words. */
export const bool: Validator<boolean> = (value, loc, issues) => {
  if (typeof value === 'boolean') return value
  if (value === 0 || value === 1) return value === 1
  if (typeof value === 'string') {
    const word = value.toLowerCase()
    if (TRUE_WORDS.has(word)) return true
    if (FALSE_WORDS.has(word)) return false
  }
  if (typeof value === 'string' || typeof value === 'number') {
    issues.push({
      type: 'bool_parsing',
      loc,
      msg: 'Input should be a valid boolean, unable to interpret input',
      input: value,
    })
  } else {
    issues.push({ type: 'bool_type', loc, msg: 'Input should be a valid boolean', input: value })
  }
  return INVALID
}

/** `int`: integers (and booleans, as pydantic's lax mode takes them), integral floats, integer strings. */
export const int: Validator<number> = (value, loc, issues) => {
  if (typeof value === 'boolean') return value ? 1 : 0
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return value
    issues.push({
      type: Number.isFinite(value) ? 'int_from_float' : 'finite_number',
      loc,
      msg: Number.isFinite(value)
        ? 'Input should be a valid integer, got a number with a fractional part'
        : 'Input should be a finite number',
      input: value,
    })
    return INVALID
  }
  if (typeof value === 'string') {
    if (/^\s*[+-]?\d+\s*$/.test(value)) return Number.parseInt(value, 10)
    issues.push({
      type: 'int_parsing',
      loc,
      msg: 'Input should be a valid integer, unable to parse string as an integer',
      input: value,
    })
    return INVALID
  }
  issues.push({ type: 'int_type', loc, msg: 'Input should be a valid integer', input: value })
  return INVALID
}

/** `Any`: every value. */
export const anything: Validator<unknown> = (value) => value

/** `X | None`. */
export function nullable<T>(inner: Validator<T>): Validator<T | null> {
  return (value, loc, issues) => (value === null ? null : inner(value, loc, issues))
}

/** A `StrEnum` field. */
export function enumOf<const T extends string>(values: readonly T[]): Validator<T> {
  const expected =
    values.length === 1
      ? `'${values[0]}'`
      : `${values
          .slice(0, -1)
          .map((value) => `'${value}'`)
          .join(', ')} or '${values.at(-1)}'`
  return (value, loc, issues) => {
    if (typeof value === 'string' && (values as readonly string[]).includes(value)) return value as T
    issues.push({ type: 'enum', loc, msg: `Input should be ${expected}`, input: value, ctx: { expected } })
    return INVALID
  }
}

/** `list[X]`. */
export function listOf<T>(item: Validator<T>): Validator<T[]> {
  return (value, loc, issues) => {
    if (!Array.isArray(value)) {
      issues.push({ type: 'list_type', loc, msg: 'Input should be a valid list', input: value })
      return INVALID
    }
    const before = issues.length
    const result = value.map((entry, index) => item(entry, [...loc, index], issues))
    return issues.length === before ? (result as T[]) : INVALID
  }
}

/** `dict[str, X]`. */
export function dictOf<T>(item: Validator<T>): Validator<Record<string, T>> {
  return (value, loc, issues) => {
    if (!isPlainObject(value)) {
      issues.push({ type: 'dict_type', loc, msg: 'Input should be a valid dictionary', input: value })
      return INVALID
    }
    const before = issues.length
    const result: Record<string, T> = {}
    for (const [key, entry] of Object.entries(value)) result[key] = item(entry, [...loc, key], issues) as T
    return issues.length === before ? result : INVALID
  }
}

/** One field of a {@link model}: its validator and, when it is optional, its default. */
export interface Field<T> {
  validate: Validator<T>
  /** Absent means required. */
  default?: () => T
}

/** Which fields a validated model instance was given (pydantic's `model_fields_set`). */
const fieldsSet = new WeakMap<object, ReadonlySet<string>>()

/** The keys the input gave explicitly, for `model_dump(exclude_unset=True)`. */
export function providedFields(instance: object): ReadonlySet<string> {
  return fieldsSet.get(instance) ?? new Set()
}

/**
 * A pydantic `BaseModel`: an object whose fields are validated in declaration order, defaults filled in,
 * other keys ignored (`extra="ignore"`), refused (`forbid`) or kept after the fields (`allow`).
 */
export function model<T extends Record<string, unknown>>(
  className: string,
  fields: { [K in keyof T]: Field<T[K]> },
  extra: 'ignore' | 'forbid' | 'allow' = 'ignore',
): Validator<T> {
  return (value, loc, issues) => {
    if (!isPlainObject(value)) {
      issues.push({
        type: 'model_type',
        loc,
        msg: `Input should be a valid dictionary or instance of ${className}`,
        input: value,
        ctx: { class_name: className },
      })
      return INVALID
    }
    const before = issues.length
    const result: Record<string, unknown> = {}
    const given = new Set<string>()
    for (const [name, field] of Object.entries(fields) as Array<[string, Field<unknown>]>) {
      if (Object.hasOwn(value, name)) {
        given.add(name)
        result[name] = field.validate(value[name], [...loc, name], issues)
      } else if (field.default !== undefined) {
        result[name] = field.default()
      } else {
        issues.push({ type: 'missing', loc: [...loc, name], msg: 'Field required', input: value })
      }
    }
    for (const [key, entry] of Object.entries(value)) {
      if (Object.hasOwn(fields, key)) continue
      if (extra === 'forbid') {
        issues.push({
          type: 'extra_forbidden',
          loc: [...loc, key],
          msg: 'Extra inputs are not permitted',
          input: entry,
        })
      } else if (extra === 'allow') {
        result[key] = entry
        given.add(key)
      }
    }
    if (issues.length !== before) return INVALID
    fieldsSet.set(result, given)
    return result as T
  }
}
