import { describeValue, findTokenIdsProblem, isTokenId } from '@vllm-tito/spec'
import { TokenInputError } from './errors'

/**
 * Throws {@link TokenInputError} unless `tokenIds` is an array of token ids (spec's rule: integers from 0 to
 * 2^32 - 1). `what` names the argument in the message, e.g. `turn 2 prompt`.
 */
export function validateTokenIds(tokenIds: unknown, what: string): asserts tokenIds is readonly number[] {
  const problem = findTokenIdsProblem(tokenIds, `${what} token ids`)
  if (problem === undefined) return
  const index = Array.isArray(tokenIds) ? tokenIds.findIndex((id) => !isTokenId(id)) : null
  throw new TokenInputError('tokenIds', index, problem)
}

/** Throws {@link TokenInputError} unless `logprobs` is an array of finite numbers or `null`s. */
export function validateLogprobs(
  logprobs: unknown,
  what: string,
): asserts logprobs is readonly (number | null)[] {
  if (!Array.isArray(logprobs)) {
    throw new TokenInputError(
      'logprobs',
      null,
      `${what} logprobs is ${describeValue(logprobs)}, not an array of numbers or null`,
    )
  }
  for (let index = 0; index < logprobs.length; index += 1) {
    const logprob: unknown = logprobs[index]
    if (logprob !== null && (typeof logprob !== 'number' || !Number.isFinite(logprob))) {
      throw new TokenInputError(
        'logprobs',
        index,
        `${what} logprobs[${index}] is ${describeValue(logprob)}, not a finite number or null`,
      )
    }
  }
}
