import {
  describeValue,
  isTokenId,
  MAX_TOKEN_ID,
  type OptionReader,
  type TextTokenizer,
} from '@vllm-tito/spec'

/**
 * Reads `specialTokenIds`: any iterable of token ids (a `Set` such as `QWEN3_SPECIAL_TOKEN_IDS`, or an array),
 * with at least one id. `undefined` when not given: the caller then decides no `template` class.
 */
export function readSpecialTokenIds(read: OptionReader): ReadonlySet<number> | undefined {
  const value = read.raw('specialTokenIds')
  if (value === undefined) return undefined
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof (value as Iterable<unknown>)[Symbol.iterator] !== 'function'
  ) {
    return read.fail(
      'specialTokenIds',
      'option `specialTokenIds` must be a Set or an array of token ids, e.g. QWEN3_SPECIAL_TOKEN_IDS',
    )
  }
  const ids = new Set<number>()
  for (const id of value as Iterable<unknown>) {
    if (!isTokenId(id)) {
      return read.fail(
        'specialTokenIds',
        `option \`specialTokenIds\` holds ${describeValue(id)}, not a token id (an integer from 0 to ${MAX_TOKEN_ID})`,
      )
    }
    ids.add(id)
  }
  if (ids.size === 0) {
    return read.fail('specialTokenIds', 'option `specialTokenIds` is empty; leave it out instead')
  }
  return ids
}

/** Reads `tokenizer`: anything with a `decode(ids)` method (only decoding is needed here). */
export function readTokenizer(read: OptionReader): Pick<TextTokenizer, 'decode'> | undefined {
  return read.custom(
    'tokenizer',
    'an object with a decode(ids) method',
    (value): value is Pick<TextTokenizer, 'decode'> =>
      typeof value === 'object' &&
      value !== null &&
      typeof (value as { decode?: unknown }).decode === 'function',
  )
}
