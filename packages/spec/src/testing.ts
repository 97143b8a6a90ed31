import { TOKEN_RECORD_SCHEMA_VERSION, type TokenRecord } from './token-record'

/**
 * Test helpers for packages that consume {@link TokenRecord}s (`@vllm-tito/spec/testing`).
 */

/**
 * Builds a small, internally consistent, verified chat record (3 prompt ids, 2 completion ids ending in
 * Qwen's `<|im_end|>`); `overrides` replace whole fields.
 */
export function makeRecord(overrides: Partial<TokenRecord> = {}): TokenRecord {
  return {
    schemaVersion: TOKEN_RECORD_SCHEMA_VERSION,
    kind: 'chat',
    responseId: 'chatcmpl-1',
    model: 'Qwen/Qwen3-8B',
    choiceIndex: 0,
    promptTokenIds: [151644, 872, 198],
    tokenIds: [9707, 151645],
    logprobs: null,
    topLogprobs: null,
    finishReason: 'stop',
    stopReason: null,
    usage: { promptTokens: 3, completionTokens: 2, totalTokens: 5 },
    verification: {
      status: 'verified',
      verified: true,
      promptIdsCount: 3,
      usagePromptTokens: 3,
      completionIdsCount: 2,
      usageCompletionTokens: 2,
      issues: [],
    },
    text: 'Hello',
    reasoning: null,
    toolCalls: [],
    timing: { startedAt: 1, firstByteAt: 2, endedAt: 3 },
    complete: true,
    ...overrides,
  }
}
