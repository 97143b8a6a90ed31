import type { TokenRecord, VerificationStatus } from '@vllm-tito/spec'
import { makeRecord } from '@vllm-tito/spec/testing'

let responseCounter = 0

/**
 * A verified chat record with the given ids (and optional logprobs), verification consistent with usage.
 * Each call gets its own `responseId`, as separate vLLM calls do.
 */
export function recordOf(
  promptTokenIds: number[],
  tokenIds: number[],
  overrides: Partial<TokenRecord> = {},
): TokenRecord {
  responseCounter += 1
  return makeRecord({
    responseId: `chatcmpl-${responseCounter}`,
    promptTokenIds,
    tokenIds,
    usage: {
      promptTokens: promptTokenIds.length,
      completionTokens: tokenIds.length,
      totalTokens: promptTokenIds.length + tokenIds.length,
    },
    verification: {
      status: 'verified',
      verified: true,
      promptIdsCount: promptTokenIds.length,
      usagePromptTokens: promptTokenIds.length,
      completionIdsCount: tokenIds.length,
      usageCompletionTokens: tokenIds.length,
      issues: [],
    },
    ...overrides,
  })
}

/** The same record, marked unverified with `status` and one issue text. */
export function unverified(record: TokenRecord, status: VerificationStatus, issue: string): TokenRecord {
  return { ...record, verification: { ...record.verification, status, verified: false, issues: [issue] } }
}

/** Runs `action` and returns what it threw; fails the test when it does not throw. */
export function catchError(action: () => unknown): unknown {
  try {
    action()
  } catch (error) {
    return error
  }
  throw new Error('expected the action to throw, but it returned normally')
}
