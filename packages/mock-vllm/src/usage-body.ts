/**
 * vLLM's `UsageInfo` as it is serialised: `prompt_tokens`, `total_tokens`, `completion_tokens` in that order,
 * plus `prompt_tokens_details: null` in non-streaming bodies (`model_dump()` keeps unset fields; the stream's
 * usage chunk is dumped with `exclude_none`).
 */
export function usageBody(
  promptTokens: number,
  completionTokens: number,
  withDetails: boolean,
): Record<string, unknown> {
  const usage: Record<string, unknown> = {
    prompt_tokens: promptTokens,
    total_tokens: promptTokens + completionTokens,
    completion_tokens: completionTokens,
  }
  if (withDetails) usage.prompt_tokens_details = null
  return usage
}
