/**
 * The checks every package shares, written once: plain objects, token-id lists, id-prefix comparison.
 * One rule each, so a value accepted by one package is accepted by all of them.
 */

/** `true` for a non-null object that is not an array (what JSON calls an object). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * The largest token id accepted anywhere: 2^32 - 1. Vocabularies are far smaller; the bound only keeps a
 * corrupted value (a float, a negative number, a huge integer) from passing for an id.
 */
export const MAX_TOKEN_ID = 0xffff_ffff

/** `true` for an integer from 0 to {@link MAX_TOKEN_ID}. */
export function isTokenId(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_TOKEN_ID
}

/**
 * `undefined` when `value` is an array of token ids ({@link isTokenId}), otherwise a sentence that names
 * `field` and the first bad entry, e.g. `tokenIds[3] is -1, not a token id (an integer from 0 to 4294967295)`.
 */
export function findTokenIdsProblem(value: unknown, field: string): string | undefined {
  if (!Array.isArray(value)) return `${field} is ${describeValue(value)}, not an array of token ids`
  for (let index = 0; index < value.length; index += 1) {
    const id: unknown = value[index]
    if (!isTokenId(id)) {
      return `${field}[${index}] is ${describeValue(id)}, not a token id (an integer from 0 to ${MAX_TOKEN_ID})`
    }
  }
  return undefined
}

/** `true` for an array whose every entry is a token id. */
export function isTokenIdList(value: unknown): value is number[] {
  return findTokenIdsProblem(value, 'ids') === undefined
}

/** `true` when `ids` starts with `prefix` (every id equal, in order). */
export function startsWithIds(ids: readonly number[], prefix: readonly number[]): boolean {
  // a shorter `ids` fails at its first missing position: undefined equals no id
  for (let index = 0; index < prefix.length; index += 1) if (ids[index] !== prefix[index]) return false
  return true
}

/**
 * `true` when `ids` starts with `first` followed by `second` — the prefix property of a multi-turn rollout
 * (the next prompt extends the previous prompt + response) — checked without concatenating.
 */
export function startsWithConcatenation(
  ids: readonly number[],
  first: readonly number[],
  second: readonly number[],
): boolean {
  // a shorter `ids` fails at its first missing position: undefined equals no id
  for (let index = 0; index < first.length; index += 1) if (ids[index] !== first[index]) return false
  const offset = first.length
  for (let index = 0; index < second.length; index += 1) {
    if (ids[offset + index] !== second[index]) return false
  }
  return true
}

/** `true` when both hold the same ids in the same order. */
export function sameIds(left: readonly number[], right: readonly number[]): boolean {
  return left.length === right.length && startsWithIds(left, right)
}

/** A short, safe description of any value for an error message (strings quoted and cut at 40 characters). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (value === undefined) return 'undefined'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string') {
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value)
  }
  if (typeof value === 'function') return 'a function'
  if (typeof value === 'object') return 'an object'
  return `a ${typeof value}`
}
