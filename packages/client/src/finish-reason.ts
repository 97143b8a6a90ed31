import type { FinishReason } from '@vllm-tito/spec'

/** What {@link correctFinishReason} needs to know about one choice. */
export interface FinishFacts {
  /** `finish_reason` as the server sent it. */
  reported: string
  /** The request's `max_tokens` (or `max_completion_tokens`), `null` when it set none. */
  maxTokens: number | null
  /**
   * How many tokens the engine generated for this choice, as far as known when asked (see
   * `ResponseState.generatedTokens`), or `null` when unknown.
   */
  generatedTokens: number | null
  /** The raw arguments text of the choice's last tool call, `null` when it made none. */
  lastToolArguments: string | null
}

/**
 * The finish reason to report. vLLM 0.10.2 said `tool_calls` whenever its tool parser had seen a call, even when
 * the engine stopped on `length` (see `docs/vllm-wire-protocol.md`, "Finish reasons"). A choice that generated
 * exactly `max_tokens` tokens and whose last call's arguments are cut-off JSON was truncated: it reads `length`.
 * Every other reason passes through unchanged.
 */
export function correctFinishReason(facts: FinishFacts): FinishReason {
  const { reported, maxTokens, generatedTokens, lastToolArguments } = facts
  if (reported !== 'tool_calls' || maxTokens === null || generatedTokens !== maxTokens) return reported
  if (lastToolArguments === null || lastToolArguments === '') return reported
  try {
    JSON.parse(lastToolArguments)
    return reported
  } catch {
    return 'length'
  }
}
