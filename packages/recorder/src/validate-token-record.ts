import { findTokenIdsProblem, isTokenRecord, type TokenRecord } from '@vllm-tito/spec'

/**
 * Checks that `value` is a {@link TokenRecord} the recorder can store and export without lying: the spec's
 * shape check, token ids that are token ids (spec's `findTokenIdsProblem`), and logprobs aligned 1:1 with the
 * completion ids.
 * Returns `undefined` when it is valid, otherwise a sentence naming the first problem found.
 */
export function findTokenRecordProblem(value: unknown): string | undefined {
  if (!isTokenRecord(value)) {
    return 'it is not a TokenRecord of schema version 1 (expected an object with schemaVersion: 1, verification and tokenIds)'
  }
  const promptProblem = idsProblem(value.promptTokenIds, 'promptTokenIds')
  if (promptProblem) return promptProblem
  const completionProblem = idsProblem(value.tokenIds, 'tokenIds')
  if (completionProblem) return completionProblem
  if (value.logprobs !== null && value.logprobs !== undefined) {
    if (!Array.isArray(value.logprobs)) return 'logprobs is neither null nor an array'
    const completionCount = value.tokenIds?.length ?? 0
    if (value.logprobs.length !== completionCount) {
      return `logprobs has ${value.logprobs.length} entries but tokenIds has ${completionCount} (they must align 1:1)`
    }
  }
  return undefined
}

/** `null` (no ids arrived) is a valid value; anything else must be a token-id list. */
function idsProblem(ids: unknown, field: string): string | undefined {
  return ids === null ? undefined : findTokenIdsProblem(ids, field)
}
