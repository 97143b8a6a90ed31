/**
 * The names Agent Lightning 0.x reads from OpenTelemetry spans (`agentlightning/semconv.py`,
 * `agentlightning/emitter/reward.py` and `agentlightning/adapter/triplet.py` at v0.3.0).
 */

/** Span name of annotation spans, which carry rewards (`AGL_ANNOTATION`). */
export const AGL_ANNOTATION_SPAN_NAME = 'agentlightning.annotation'

/** Prefix of the flattened reward list: `agentlightning.reward.<i>.name` / `.value`; index 0 is the primary. */
export const REWARD_ATTRIBUTE_PREFIX = 'agentlightning.reward'

/** Name of the single reward dimension (`emit_reward(float)` writes `primary`). */
export const PRIMARY_REWARD_NAME = 'primary'

/** Resource (or span) attribute the store files spans under. */
export const ROLLOUT_ID_ATTRIBUTE = 'agentlightning.rollout_id'

/** Resource (or span) attribute the store files spans under. */
export const ATTEMPT_ID_ATTRIBUTE = 'agentlightning.attempt_id'

/**
 * Prefixes the 0.x adapter unflattens into nested objects. `filter_and_unflatten_attributes` raises
 * `ValueError` on an attribute whose key equals one of them exactly, which fails the whole trace, so no span
 * may carry such a bare key (`gen_ai.request.model` is fine; `gen_ai.request` is not).
 */
export const UNFLATTENED_PREFIXES: readonly string[] = [
  'gen_ai.prompt',
  'gen_ai.completion',
  'gen_ai.request',
  'gen_ai.response',
  REWARD_ATTRIBUTE_PREFIX,
  'agentlightning.operation.input',
  'agentlightning.operation.output',
  'agentlightning.operation.input.messages',
  'agentlightning.operation.output.choices',
]

/** Attributes the adapter reads as token ids; anything but a list of integers becomes `[]` there. */
export const TOKEN_ID_ATTRIBUTES: readonly string[] = ['prompt_token_ids', 'response_token_ids']

/**
 * The problems Agent Lightning 0.x would have with a span's attributes, as sentences (empty when none): a bare
 * key equal to an unflattened prefix (the adapter raises), or a token-id attribute that is not an array of
 * integers (the adapter drops it and trains on an empty sequence).
 */
export function findAgentLightningAttributeProblems(attributes: Record<string, unknown>): string[] {
  const problems: string[] = []
  for (const key of Object.keys(attributes)) {
    if (UNFLATTENED_PREFIXES.includes(key)) {
      problems.push(
        `attribute "${key}" is a bare key equal to a prefix Agent Lightning unflattens; its adapter raises on it`,
      )
    }
  }
  for (const key of TOKEN_ID_ATTRIBUTES) {
    if (!(key in attributes)) continue
    const value = attributes[key]
    if (!Array.isArray(value) || !value.every((id) => Number.isInteger(id))) {
      problems.push(`attribute "${key}" is not an array of integers; Agent Lightning would read it as []`)
    }
  }
  return problems
}
