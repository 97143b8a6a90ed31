import type { Attributes } from '@opentelemetry/api'
import { OptionReader, type TokenRecord } from '@vllm-tito/spec'
import type { RecordedCall } from '../token-span-writer'

/** The attribute keys written on a model-call span, by family. */
export const TOKEN_SPAN_ATTRIBUTES = {
  /** `strands-vllm`: number of prompt token ids. */
  promptTokenCount: 'llm.token_count.prompt',
  /** `strands-vllm`: number of completion token ids. */
  completionTokenCount: 'llm.token_count.completion',
  /** `strands-vllm`: prompt token ids, a flat integer array. */
  hostedVllmPromptTokenIds: 'llm.hosted_vllm.prompt_token_ids',
  /** `strands-vllm`: completion token ids, a flat integer array. */
  hostedVllmResponseTokenIds: 'llm.hosted_vllm.response_token_ids',
  /** Agent Lightning `TracerTraceToTriplet`: prompt token ids, a flat integer array. */
  promptTokenIds: 'prompt_token_ids',
  /** Agent Lightning `TracerTraceToTriplet`: completion token ids, a flat integer array. */
  responseTokenIds: 'response_token_ids',
  /** GenAI semantic conventions: `chat` or `text_completion`. */
  operationName: 'gen_ai.operation.name',
  /** GenAI: always `vllm`. */
  providerName: 'gen_ai.provider.name',
  /** GenAI: the model of the record. */
  requestModel: 'gen_ai.request.model',
  /** GenAI: the model the server reported. */
  responseModel: 'gen_ai.response.model',
  /** GenAI: the server's response id (`chatcmpl-…`); Agent Lightning dedups by it. */
  responseId: 'gen_ai.response.id',
  /** GenAI: `[finish_reason]`. */
  finishReasons: 'gen_ai.response.finish_reasons',
  /** GenAI: `usage.prompt_tokens`. */
  inputTokens: 'gen_ai.usage.input_tokens',
  /** GenAI: `usage.completion_tokens` (summed over choices when `n > 1`, as vLLM reports it). */
  outputTokens: 'gen_ai.usage.output_tokens',
  /** GenAI: the Strands agent id, when the record came through an agent. */
  agentId: 'gen_ai.agent.id',
  /** Verification verdict: `verified`, `mismatch`, `unavailable`, `unverifiable` or `incomplete`. */
  verificationStatus: 'vllm_tito.verification.status',
  /** `true` only when the ids are exactly what the server counted. */
  verified: 'vllm_tito.verification.verified',
  /** Reasons the ids are not verified (string array), present only when there are some. */
  verificationIssues: 'vllm_tito.verification.issues',
  /** `false` when the call was interrupted and the record holds only what arrived. */
  complete: 'vllm_tito.complete',
  /** Choice index within the response (`n > 1`). */
  choiceIndex: 'vllm_tito.choice_index',
  /** The recorder's rollout id, when one was given. */
  rolloutId: 'vllm_tito.rollout_id',
  /** Position of the call in its recorder. */
  callIndex: 'vllm_tito.call_index',
  /** `true` when id arrays were left out because they exceed `maxTokenIdsPerAttribute`. */
  tokenIdsOmitted: 'vllm_tito.token_ids.omitted',
  /** Why the id arrays were left out. */
  tokenIdsOmittedReason: 'vllm_tito.token_ids.omitted_reason',
} as const

/** Options of {@link tokenRecordAttributes}. */
export interface TokenRecordAttributesOptions {
  /**
   * The most ids an id attribute may hold. When the prompt or the completion has more, NO id array of that
   * call is written (a truncated array would look exact to a trainer), and `vllm_tito.token_ids.omitted`
   * says so; counts and everything else are still written. Default: no cap.
   */
  maxTokenIdsPerAttribute?: number
}

/**
 * The span attributes of one model call: `strands-vllm`'s keys, Agent Lightning's keys, GenAI semantic-convention
 * keys and the verification result (see {@link TOKEN_SPAN_ATTRIBUTES}). Keys whose value is unknown
 * (`null` in the record) are left out rather than written as a made-up value.
 *
 * @throws InvalidOptionError (from `@vllm-tito/spec`) for a bad or misspelt option.
 */
export function tokenRecordAttributes(
  record: TokenRecord,
  call: Partial<RecordedCall> = {},
  options: TokenRecordAttributesOptions = {},
): Attributes {
  const keys = TOKEN_SPAN_ATTRIBUTES
  const attributes: Attributes = {
    [keys.operationName]: record.kind === 'chat' ? 'chat' : 'text_completion',
    [keys.providerName]: 'vllm',
    [keys.verificationStatus]: record.verification.status,
    [keys.verified]: record.verification.verified,
    [keys.complete]: record.complete,
    [keys.choiceIndex]: record.choiceIndex,
  }
  if (record.model !== null) {
    attributes[keys.requestModel] = record.model
    attributes[keys.responseModel] = record.model
  }
  if (record.responseId !== null) attributes[keys.responseId] = record.responseId
  if (record.finishReason !== null) attributes[keys.finishReasons] = [record.finishReason]
  if (record.usage !== null) {
    attributes[keys.inputTokens] = record.usage.promptTokens
    attributes[keys.outputTokens] = record.usage.completionTokens
  }
  if (record.verification.issues.length > 0) attributes[keys.verificationIssues] = record.verification.issues
  if (call.agentId !== undefined) attributes[keys.agentId] = call.agentId
  if (call.rolloutId !== undefined) attributes[keys.rolloutId] = call.rolloutId
  if (call.callIndex !== undefined) attributes[keys.callIndex] = call.callIndex

  const promptIds = record.promptTokenIds
  const completionIds = record.tokenIds
  if (promptIds !== null) attributes[keys.promptTokenCount] = promptIds.length
  if (completionIds !== null) attributes[keys.completionTokenCount] = completionIds.length
  const cap =
    new OptionReader('tokenRecordAttributes', options)
      .rejectUnknown(['maxTokenIdsPerAttribute'])
      .integer('maxTokenIdsPerAttribute') ?? Number.POSITIVE_INFINITY
  const oversized = [
    promptIds !== null && promptIds.length > cap ? `prompt ids (${promptIds.length})` : undefined,
    completionIds !== null && completionIds.length > cap
      ? `completion ids (${completionIds.length})`
      : undefined,
  ].filter((part) => part !== undefined)
  if (oversized.length > 0) {
    attributes[keys.tokenIdsOmitted] = true
    attributes[keys.tokenIdsOmittedReason] =
      `${oversized.join(' and ')} exceed maxTokenIdsPerAttribute (${cap}); read them from the record sink`
    return attributes
  }
  if (promptIds !== null) {
    attributes[keys.hostedVllmPromptTokenIds] = promptIds
    attributes[keys.promptTokenIds] = promptIds
  }
  if (completionIds !== null) {
    attributes[keys.hostedVllmResponseTokenIds] = completionIds
    attributes[keys.responseTokenIds] = completionIds
  }
  return attributes
}
