import { QWEN3_SPECIAL_TOKEN_IDS } from '@vllm-tito/trajectory'

/**
 * The special-token ids the trajectory builder classifies `template` breaks with, for the models whose ids are
 * known here (Qwen2.5 and Qwen3 share them; the embedded mock serves Qwen3). For any other model the builder
 * gets none and reports such breaks without guessing their class.
 */
export function specialTokenIdsFor(modelId: string): { specialTokenIds?: ReadonlySet<number> } {
  return /qwen(2\.5|3)/i.test(modelId) ? { specialTokenIds: QWEN3_SPECIAL_TOKEN_IDS } : {}
}
