import type { TextTokenizer } from '@vllm-tito/spec'
import { findDriftIndex } from './find-drift-index'

/** The result of {@link checkRetokenization}. */
export interface RetokenizationCheck {
  /** `true` when encoding the decoded text gives back exactly the same ids. */
  stable: boolean
  /** First position where the re-encoded ids differ (see `findDriftIndex`), `-1` when stable. */
  driftIndex: number
  /** The decoded text (special tokens kept). */
  text: string
  /** The ids the tokenizer gives for {@link text}. */
  reencodedIds: number[]
}

/**
 * Decodes `tokenIds` and encodes the text again, reporting whether the round trip changes the ids. Sampled
 * ids are often a non-canonical split (Qwen3 samples `HAVING` as `[39, 83722]`, re-encodes it as
 * `[72239, 1718]`): a trainer fed re-encoded ids would train on tokens the model never produced.
 *
 * `tokenizer` is any {@link TextTokenizer}; mock-vllm's `loadQwen3Tokenizer()` satisfies it.
 */
export function checkRetokenization(
  tokenIds: readonly number[],
  tokenizer: TextTokenizer,
): RetokenizationCheck {
  const text = tokenizer.decode(tokenIds)
  const reencodedIds = tokenizer.encode(text)
  const driftIndex = findDriftIndex(tokenIds, reencodedIds)
  return { stable: driftIndex === -1, driftIndex, text, reencodedIds }
}
