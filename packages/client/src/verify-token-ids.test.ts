import { describe, expect, it } from 'vitest'
import { type VerificationInput, verifyTokenIds } from './verify-token-ids'

const NO_IDS_FIX =
  'use vLLM >= 0.10.2, send `return_token_ids: true` (the client does unless told otherwise), and make sure no proxy strips `prompt_token_ids`/`token_ids`'
const STREAMING_DROP_CAUSE =
  ': vLLM 0.10.2–0.11 drops the ids of tokens swallowed by a tool or reasoning parser while streaming (vllm-project/vllm#27482); upgrade to vLLM >= 0.12 (vllm-project/vllm#29074) or use the non-streaming call'

/** A finished streaming call whose 4 prompt ids and 5 completion ids match its usage. */
function input(overrides: Partial<VerificationInput> = {}): VerificationInput {
  return {
    promptIds: 4,
    completionIds: 5,
    promptIdsCount: 4,
    completionIdsCount: 5,
    usage: { promptTokens: 4, completionTokens: 5, totalTokens: 9 },
    complete: true,
    interruption: null,
    idsNotRequested: false,
    streaming: true,
    logprobDisagreements: [],
    ...overrides,
  }
}

const usage = (promptTokens: number, completionTokens: number) => ({
  promptTokens,
  completionTokens,
  totalTokens: promptTokens + completionTokens,
})

describe('verifyTokenIds', () => {
  it('verifies ids whose counts equal usage, and reports the four counts', () => {
    expect(verifyTokenIds(input())).toEqual({
      status: 'verified',
      verified: true,
      promptIdsCount: 4,
      usagePromptTokens: 4,
      completionIdsCount: 5,
      usageCompletionTokens: 5,
      issues: [],
    })
  })

  it('a prompt id count that differs from usage.prompt_tokens is a mismatch, in either direction', () => {
    for (const [promptIdsCount, promptTokens] of [
      [3, 4],
      [5, 4],
    ] as const) {
      const verification = verifyTokenIds(input({ promptIdsCount, usage: usage(promptTokens, 5) }))
      expect(verification).toEqual({
        status: 'mismatch',
        verified: false,
        promptIdsCount,
        usagePromptTokens: promptTokens,
        completionIdsCount: 5,
        usageCompletionTokens: 5,
        issues: [`prompt ids: ${promptIdsCount} received but usage.prompt_tokens is ${promptTokens}`],
      })
    }
  })

  it('one completion id short (a dropped EOS) is a mismatch naming the one missing id', () => {
    // non-streaming: the parser-swallowing cause does not apply, so no explanation follows
    const verification = verifyTokenIds(input({ completionIdsCount: 4, streaming: false }))
    expect(verification.status).toBe('mismatch')
    expect(verification.verified).toBe(false)
    expect(verification.completionIdsCount).toBe(4)
    expect(verification.issues).toEqual([
      'completion ids: 4 received but usage.completion_tokens is 5 (1 missing)',
    ])
  })

  it('missing completion ids while streaming name the vLLM 0.10.2–0.11 parser bug and its fixes', () => {
    const verification = verifyTokenIds(input({ completionIdsCount: 2, streaming: true }))
    expect(verification.status).toBe('mismatch')
    expect(verification.issues).toEqual([
      `completion ids: 2 received but usage.completion_tokens is 5 (3 missing)${STREAMING_DROP_CAUSE}`,
    ])
  })

  it('more completion ids than usage counts is a surplus, never explained as the streaming drop', () => {
    for (const streaming of [true, false]) {
      const verification = verifyTokenIds(input({ completionIdsCount: 7, streaming }))
      expect(verification.status).toBe('mismatch')
      expect(verification.issues).toEqual([
        'completion ids: 7 received but usage.completion_tokens is 5 (2 more than counted)',
      ])
    }
    // one over is worded the same way
    expect(verifyTokenIds(input({ completionIdsCount: 6 })).issues).toEqual([
      'completion ids: 6 received but usage.completion_tokens is 5 (1 more than counted)',
    ])
  })

  it('completion ids that never arrived count as 0 against usage', () => {
    const verification = verifyTokenIds(input({ completionIdsCount: null, streaming: false }))
    expect(verification.completionIdsCount).toBeNull()
    expect(verification.issues).toEqual([
      'completion ids: 0 received but usage.completion_tokens is 5 (5 missing)',
    ])
  })

  it('lists a prompt and a completion mismatch together, prompt first', () => {
    const verification = verifyTokenIds(input({ promptIdsCount: 3, completionIdsCount: 4, streaming: false }))
    expect(verification.issues).toEqual([
      'prompt ids: 3 received but usage.prompt_tokens is 4',
      'completion ids: 4 received but usage.completion_tokens is 5 (1 missing)',
    ])
  })

  it('logprob disagreements make a mismatch even when the counts agree, listed before count issues', () => {
    const disagreement = 'completion id 7 at position 0 disagrees with its logprob token "token_id:8"'
    expect(verifyTokenIds(input({ logprobDisagreements: [disagreement] }))).toMatchObject({
      status: 'mismatch',
      verified: false,
      issues: [disagreement],
    })
    expect(
      verifyTokenIds(input({ logprobDisagreements: [disagreement], completionIdsCount: 4, streaming: false }))
        .issues,
    ).toEqual([disagreement, 'completion ids: 4 received but usage.completion_tokens is 5 (1 missing)'])
  })

  it('without usage: unverifiable, naming include_usage, unless logprob disagreements already make a mismatch', () => {
    expect(verifyTokenIds(input({ usage: null }))).toEqual({
      status: 'unverifiable',
      verified: false,
      promptIdsCount: 4,
      usagePromptTokens: null,
      completionIdsCount: 5,
      usageCompletionTokens: null,
      issues: [
        'the server sent no usage to check the ids against: keep `stream_options.include_usage` on (the client sends it unless told otherwise)',
      ],
    })
    const disagreement = 'completion id 1 at position 2 disagrees with its logprob token "token_id:3"'
    expect(verifyTokenIds(input({ usage: null, logprobDisagreements: [disagreement] }))).toEqual({
      status: 'mismatch',
      verified: false,
      promptIdsCount: 4,
      usagePromptTokens: null,
      completionIdsCount: 5,
      usageCompletionTokens: null,
      issues: [disagreement],
    })
  })

  it('an interrupted call is incomplete whatever its counts, naming why it stopped', () => {
    expect(verifyTokenIds(input({ complete: false, interruption: 'the connection was reset' }))).toEqual({
      status: 'incomplete',
      verified: false,
      promptIdsCount: 4,
      usagePromptTokens: 4,
      completionIdsCount: 5,
      usageCompletionTokens: 5,
      issues: [
        'the call did not finish (the connection was reset): the ids are only what arrived before the failure',
      ],
    })
    expect(verifyTokenIds(input({ complete: false, promptIds: null, usage: null })).issues).toEqual([
      'the call did not finish (interrupted): the ids are only what arrived before the failure',
    ])
  })

  it('missing ids are unavailable, naming which ids and the fix; ids not requested say so instead', () => {
    const unavailable = (overrides: Partial<VerificationInput>) => {
      const verification = verifyTokenIds(input(overrides))
      expect(verification.status).toBe('unavailable')
      expect(verification.verified).toBe(false)
      return verification.issues
    }
    expect(unavailable({ promptIds: null, completionIds: null })).toEqual([
      `the server returned no token ids: ${NO_IDS_FIX}`,
    ])
    expect(unavailable({ promptIds: null })).toEqual([
      `the server returned no prompt ids (\`prompt_token_ids\`): ${NO_IDS_FIX}`,
    ])
    expect(unavailable({ completionIds: null })).toEqual([
      `the server returned no completion ids (\`token_ids\`): ${NO_IDS_FIX}`,
    ])
    for (const missing of [{ promptIds: null }, { completionIds: null }]) {
      expect(unavailable({ ...missing, idsNotRequested: true })).toEqual([
        'token ids were not requested (`return_token_ids: false`)',
      ])
    }
  })

  it('ids not requested change nothing when the ids arrived anyway', () => {
    expect(verifyTokenIds(input({ idsNotRequested: true })).status).toBe('verified')
  })
})
