import { findTokenIdsProblem, isPlainObject, type TokenUsage } from '@vllm-tito/spec'
import { MalformedResponseError } from './wire-errors'

/**
 * Readers for the plain values of a vLLM chunk or body: token-id lists, choice indexes, usage. Each throws
 * {@link MalformedResponseError} naming the field when the value is not what vLLM sends.
 */

/** A token-id list, or `null` when the server sent `null` (ids not requested). */
export function readTokenIds(value: unknown, field: string): number[] | null {
  if (value === null) return null
  const problem = findTokenIdsProblem(value, field)
  if (problem !== undefined) throw new MalformedResponseError(problem)
  return value as number[]
}

/** A token-id list when the key is present, `null` when it is absent or `null`. */
export function readOptionalTokenIds(value: unknown, field: string): number[] | null {
  return value === undefined ? null : readTokenIds(value, field)
}

/** `true` for an index of a choice or a tool call: an integer from 0, below a million. */
export function isIndex(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < 1_000_000
}

/** The `usage` object; `total_tokens` is computed when absent. */
export function readUsage(value: unknown): TokenUsage {
  if (!isPlainObject(value)) throw new MalformedResponseError('`usage` is not an object')
  const promptTokens = value.prompt_tokens
  const completionTokens = value.completion_tokens
  if (!isCount(promptTokens)) throw new MalformedResponseError('usage.prompt_tokens is not a token count')
  if (!isCount(completionTokens)) {
    throw new MalformedResponseError('usage.completion_tokens is not a token count')
  }
  const totalTokens = isCount(value.total_tokens) ? value.total_tokens : promptTokens + completionTokens
  return { promptTokens, completionTokens, totalTokens }
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0
}
