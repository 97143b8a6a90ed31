import { isTokenRecord, type TokenRecord } from '@vllm-tito/spec'

/**
 * Checks that `value` is a {@link TokenRecord} the recorder can store and export without lying: the spec's
 * shape check, token ids that are non-negative integers, and logprobs aligned 1:1 with the completion ids.
 * Returns `undefined` when it is valid, otherwise a sentence naming the first problem found.
 */
export function findTokenRecordProblem(value: unknown): string | undefined {
  if (!isTokenRecord(value)) {
    return 'it is not a TokenRecord of schema version 1 (expected an object with schemaVersion: 1, verification and tokenIds)'
  }
  const promptProblem = findIdsProblem(value.promptTokenIds, 'promptTokenIds')
  if (promptProblem) return promptProblem
  const completionProblem = findIdsProblem(value.tokenIds, 'tokenIds')
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

function findIdsProblem(ids: unknown, field: string): string | undefined {
  if (ids === null) return undefined
  if (!Array.isArray(ids)) return `${field} is neither null nor an array`
  for (let index = 0; index < ids.length; index += 1) {
    const id: unknown = ids[index]
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
      return `${field}[${index}] is ${JSON.stringify(id) ?? String(id)}, not a non-negative integer token id`
    }
  }
  return undefined
}
