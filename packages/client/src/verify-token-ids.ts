import type { TokenUsage, TokenVerification } from '@vllm-tito/spec'

/** What {@link verifyTokenIds} needs to know about one record and its response. */
export interface VerificationInput {
  /** The record's own prompt ids length, `null` when none arrived. */
  promptIds: number | null
  /** The record's own completion ids length, `null` when none arrived. */
  completionIds: number | null
  /** Prompt ids length compared with `usage.prompt_tokens` (summed over prompts for batch completions). */
  promptIdsCount: number | null
  /** Completion ids length compared with `usage.completion_tokens` (summed over every choice). */
  completionIdsCount: number | null
  usage: TokenUsage | null
  /** `false` when the call was interrupted. */
  complete: boolean
  /** Why the call did not finish, for the `incomplete` issue. */
  interruption: string | null
  /** `true` when the request itself set `return_token_ids: false`. */
  idsNotRequested: boolean
  /** `true` for streaming calls (where vLLM 0.10.2–0.11 dropped parser-swallowed ids). */
  streaming: boolean
  /** Disagreements between ids and `token_id:N` logprob tokens, already worded. */
  logprobDisagreements: string[]
}

const NO_IDS_FIX =
  'use vLLM >= 0.10.2, send `return_token_ids: true` (the client does unless told otherwise), and make sure no proxy strips `prompt_token_ids`/`token_ids`'

/**
 * Checks a record's ids against the server's `usage` counts. Never claims more than it can show: only
 * `verified` means exact, and every other status lists its reasons, naming the fix where there is one.
 */
export function verifyTokenIds(input: VerificationInput): TokenVerification {
  const issues: string[] = []
  const base = {
    promptIdsCount: input.promptIdsCount,
    usagePromptTokens: input.usage?.promptTokens ?? null,
    completionIdsCount: input.completionIdsCount,
    usageCompletionTokens: input.usage?.completionTokens ?? null,
  }
  if (!input.complete) {
    issues.push(
      `the call did not finish (${input.interruption ?? 'interrupted'}): the ids are only what arrived before the failure`,
    )
    return { status: 'incomplete', verified: false, ...base, issues }
  }
  if (input.promptIds === null || input.completionIds === null) {
    if (input.idsNotRequested) {
      issues.push('token ids were not requested (`return_token_ids: false`)')
    } else if (input.promptIds === null && input.completionIds === null) {
      issues.push(`the server returned no token ids: ${NO_IDS_FIX}`)
    } else {
      const missing =
        input.promptIds === null ? 'prompt ids (`prompt_token_ids`)' : 'completion ids (`token_ids`)'
      issues.push(`the server returned no ${missing}: ${NO_IDS_FIX}`)
    }
    return { status: 'unavailable', verified: false, ...base, issues }
  }
  issues.push(...input.logprobDisagreements)
  const usage = input.usage
  if (usage === null) {
    if (issues.length > 0) return { status: 'mismatch', verified: false, ...base, issues }
    issues.push(
      'the server sent no usage to check the ids against: keep `stream_options.include_usage` on (the client sends it unless told otherwise)',
    )
    return { status: 'unverifiable', verified: false, ...base, issues }
  }
  if (input.promptIdsCount !== usage.promptTokens) {
    issues.push(
      `prompt ids: ${input.promptIdsCount} received but usage.prompt_tokens is ${usage.promptTokens}`,
    )
  }
  const completionCount = input.completionIdsCount ?? 0
  if (completionCount !== usage.completionTokens) {
    // exactly one of the two is above 0 here
    const missing = Math.max(0, usage.completionTokens - completionCount)
    const surplus = Math.max(0, completionCount - usage.completionTokens)
    const cause =
      missing > 0 && input.streaming
        ? `: vLLM 0.10.2–0.11 drops the ids of tokens swallowed by a tool or reasoning parser while streaming (vllm-project/vllm#27482); upgrade to vLLM >= 0.12 (vllm-project/vllm#29074) or use the non-streaming call`
        : ''
    const amount = missing > 0 ? `${missing} missing` : `${surplus} more than counted`
    issues.push(
      `completion ids: ${completionCount} received but usage.completion_tokens is ${usage.completionTokens} (${amount})${cause}`,
    )
  }
  if (issues.length > 0) return { status: 'mismatch', verified: false, ...base, issues }
  return { status: 'verified', verified: true, ...base, issues }
}
