import { OptionReader, type TextTokenizer, type TokenInRenderReason } from '@vllm-tito/spec'
import { findDriftIndex } from './find-drift-index'
import { readSpecialTokenIds, readTokenizer } from './read-shared-options'
import { validateTokenIds } from './token-input'

/**
 * Why a turn's prompt does not start with the previous prompt + response (the classes of Agent Lightning's
 * `template_mismatch` / `retoken_mismatch` / `others_mismatch`):
 * - `template`: the sequence of special tokens differs — the chat template rewrote history, e.g. Qwen3
 *   dropping an earlier turn's `<think>…</think>`, or the empty `<think>\n\n</think>` of
 *   `enable_thinking: false` that the generation prompt has and the history rendering does not. Decided
 *   only when the model family's special-token ids are given: without them no break is called `template`;
 * - `retokenization`: the decoded text is the same but the ids differ — the server re-encoded a sampled,
 *   non-canonical split (needs a tokenizer to decide);
 * - `other`: anything else (edited or trimmed history, a retried call, no tokenizer to compare text).
 */
export type PrefixBreakKind = 'template' | 'retokenization' | 'other'

/** The result of {@link classifyPrefixBreak}. */
export interface PrefixBreakClassification {
  /** The class of the break. */
  kind: PrefixBreakKind
  /** First token position where the prompt departs from the previous context (see `findDriftIndex`). */
  driftIndex: number
  /** Length of the previous context (previous prompt + response), in tokens. */
  contextLength: number
  /** Length of the new prompt, in tokens. */
  promptLength: number
  /** One sentence on what differs. */
  detail: string
  /** Decoded context around the drift (when a tokenizer was given), for logs; otherwise `null`. */
  contextExcerpt: string | null
  /** Decoded prompt around the drift (when a tokenizer was given), for logs; otherwise `null`. */
  promptExcerpt: string | null
}

/** A {@link PrefixBreakClassification} found by the trajectory builder, with the turn it happened at. */
export interface PrefixBreak extends PrefixBreakClassification {
  /** Position of the record in the rollout (0-based). */
  turnIndex: number
  /**
   * For a record made in token-in mode (`TokenRecord.tokenIn`): why it rendered its prompt from scratch (the
   * record's `renderReason`), or `appended` when the record says it extended the previous turn although its ids
   * do not (the builder checks the ids, never the claim). Absent for other records.
   */
  tokenIn?: TokenInRenderReason | 'appended'
}

/** Options of {@link classifyPrefixBreak}. */
export interface ClassifyPrefixBreakOptions {
  /**
   * The model family's special-token ids (the template skeleton), e.g. {@link QWEN3_SPECIAL_TOKEN_IDS}. No
   * default: without them the `template` class is not decided, and the break's `detail` says so.
   */
  specialTokenIds?: Iterable<number>
  /** Decoder used to compare text; without it a non-template break is `other`. */
  tokenizer?: Pick<TextTokenizer, 'decode'>
}

/**
 * Qwen2.5/Qwen3 added tokens (151643–151668): `<|endoftext|>`, `<|im_start|>` 151644, `<|im_end|>` 151645,
 * vision markers, `<tool_call>` 151657, `</tool_call>` 151658, FIM tokens, `<tool_response>` 151665,
 * `</tool_response>` 151666, `<think>` 151667, `</think>` 151668 (the `added_tokens` of the models'
 * `tokenizer.json`, e.g. https://huggingface.co/Qwen/Qwen3-8B/blob/main/tokenizer.json). Nothing uses it by
 * default: pass it as `specialTokenIds` for a Qwen model, or your model family's ids for another.
 */
export const QWEN3_SPECIAL_TOKEN_IDS: ReadonlySet<number> = new Set(
  Array.from({ length: 151668 - 151643 + 1 }, (_, offset) => 151643 + offset),
)

const EXCERPT_BEFORE = 8
const EXCERPT_AFTER = 24

/**
 * Classifies why `prompt` does not start with `context` (the previous turn's prompt + response ids).
 * Returns `null` when it does (no break).
 *
 * @throws InvalidOptionError (from spec) on an unknown or malformed option.
 * @throws TokenInputError when `context` or `prompt` is not a list of token ids.
 */
export function classifyPrefixBreak(
  context: readonly number[],
  prompt: readonly number[],
  options: ClassifyPrefixBreakOptions = {},
): PrefixBreakClassification | null {
  const read = new OptionReader('classifyPrefixBreak', options).rejectUnknown([
    'specialTokenIds',
    'tokenizer',
  ])
  const specialTokenIds = readSpecialTokenIds(read)
  const tokenizer = readTokenizer(read)
  validateTokenIds(context, 'context')
  validateTokenIds(prompt, 'prompt')
  return classifyBreak(context, prompt, specialTokenIds, tokenizer)
}

/** {@link classifyPrefixBreak} on checked arguments (the trajectory builder checks them once, up front). */
export function classifyBreak(
  context: readonly number[],
  prompt: readonly number[],
  specialTokenIds: ReadonlySet<number> | undefined,
  tokenizer: Pick<TextTokenizer, 'decode'> | undefined,
): PrefixBreakClassification | null {
  const driftIndex = findDriftIndex(context, prompt)
  if (driftIndex === -1 || driftIndex === context.length) return null
  const base = {
    driftIndex,
    contextLength: context.length,
    promptLength: prompt.length,
    contextExcerpt: tokenizer ? excerpt(tokenizer, context, driftIndex) : null,
    promptExcerpt: tokenizer ? excerpt(tokenizer, prompt, driftIndex) : null,
  }
  if (driftIndex === prompt.length) {
    return {
      ...base,
      kind: 'other',
      detail: `the prompt (${prompt.length} tokens) ends inside the previous context (${context.length} tokens): a retried or rewound call`,
    }
  }
  const skeletonDrift = specialTokenIds ? findSkeletonDrift(context, prompt, specialTokenIds) : null
  if (skeletonDrift !== null) {
    return {
      ...base,
      kind: 'template',
      detail: `special-token sequence differs at special token #${skeletonDrift.position}: context has id ${skeletonDrift.contextId}, prompt has id ${skeletonDrift.promptId}`,
    }
  }
  // without the family's special-token ids a template change cannot be told apart from other edits
  const templateNote = specialTokenIds
    ? ''
    : '; no specialTokenIds given, so a template change is not detected'
  if (!tokenizer) {
    const structure = specialTokenIds ? 'same special-token structure, different ids' : 'different ids'
    return {
      ...base,
      kind: 'other',
      detail: `${structure}; no tokenizer given to compare the decoded text${templateNote}`,
    }
  }
  const contextText = tokenizer.decode(context)
  const promptText = tokenizer.decode(prompt)
  if (promptText.startsWith(contextText)) {
    return {
      ...base,
      kind: 'retokenization',
      detail: `the decoded text still extends the previous context, but the ids differ from token ${driftIndex}: the server re-encoded sampled text`,
    }
  }
  return {
    ...base,
    kind: 'other',
    detail: `the decoded text differs from character ${findTextDrift(contextText, promptText)}: history was edited, trimmed or re-serialised${templateNote}`,
  }
}

/** The ids of `ids` that are special tokens, in order. */
export function specialTokenSkeleton(ids: readonly number[], specialTokenIds: ReadonlySet<number>): number[] {
  const skeleton: number[] = []
  for (const id of ids) if (specialTokenIds.has(id)) skeleton.push(id)
  return skeleton
}

/**
 * Compares the special-token sequences of context and prompt over their overlap. A prompt that extends the
 * context has the context's skeleton as a prefix of its own, so a difference inside the overlap means the
 * template rendered history differently. When either skeleton is a prefix of the other, the template agrees
 * as far as both go: a prompt whose skeleton merely ends early holds fewer messages (trimmed history, a new
 * conversation), which is not a template change.
 */
function findSkeletonDrift(
  context: readonly number[],
  prompt: readonly number[],
  specialTokenIds: ReadonlySet<number>,
): { position: number; contextId: number; promptId: number } | null {
  const contextSkeleton = specialTokenSkeleton(context, specialTokenIds)
  const promptSkeleton = specialTokenSkeleton(prompt, specialTokenIds)
  const position = findDriftIndex(contextSkeleton, promptSkeleton)
  if (position === -1 || position === contextSkeleton.length || position === promptSkeleton.length)
    return null
  // inside both skeletons, so both ids exist
  return { position, contextId: contextSkeleton[position]!, promptId: promptSkeleton[position]! }
}

function findTextDrift(left: string, right: string): number {
  const shared = Math.min(left.length, right.length)
  for (let index = 0; index < shared; index += 1) if (left[index] !== right[index]) return index
  return shared
}

function excerpt(
  tokenizer: Pick<TextTokenizer, 'decode'>,
  ids: readonly number[],
  driftIndex: number,
): string {
  return tokenizer.decode(ids.slice(Math.max(0, driftIndex - EXCERPT_BEFORE), driftIndex + EXCERPT_AFTER))
}
