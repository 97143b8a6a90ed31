import type { FinishReason, TextTokenizer, TokenInSegment, VerificationStatus } from '@vllm-tito/spec'
import type { PrefixBreak, PrefixBreakKind } from './classify-prefix-break'

/**
 * What to do when a turn's prompt does not start with the previous prompt + response:
 * - `new-sequence` (default): close the current sequence and start a new one with this turn (step-wise
 *   fallback, exact);
 * - `throw`: throw {@link PrefixBreakError};
 * - `merge-lossy`: keep one sequence by appending only the part of the new prompt after the previous turn's
 *   closing token (e.g. `<|im_end|>`), located by counting that token; the sequence is flagged inexact
 *   (`exact: false`) because the model saw a different history than the sequence holds. Falls back to
 *   `new-sequence` when the closing token cannot be located, or when the previous turn does not end in a
 *   special token (a response cut by `length`): counting an ordinary token could align inside the new
 *   messages and drop or repeat tokens.
 */
export type BreakPolicy = 'new-sequence' | 'throw' | 'merge-lossy'

/**
 * What to do with a record whose `verification.verified` is `false` (ids missing, counts differing from
 * `usage`, no `usage`, or an interrupted call):
 * - `exclude` (default): leave the turn out. Its response is not trained on; if a later prompt extends the
 *   last included context, the excluded turn's tokens arrive inside that prompt's suffix with loss mask 0;
 * - `flag`: include it, but mark its sequence `exact: false` with an issue (trainer exports refuse inexact
 *   sequences unless told otherwise). Records without ids cannot be included and are excluded;
 * - `throw`: throw {@link UnverifiedRecordError} (or spec's `TokenIdsUnavailableError` when ids are missing).
 */
export type UnverifiedPolicy = 'exclude' | 'flag' | 'throw'

/** Options of the {@link TrajectoryBuilder}. */
export interface TrajectoryOptions {
  /** Policy for prefix breaks. Default `new-sequence`. */
  onBreak?: BreakPolicy
  /** Policy for unverified records. Default `exclude`. */
  unverified?: UnverifiedPolicy
  /** Throw `LogprobLengthError` on a record whose logprobs do not align with its ids (default: drop them). */
  strictLogprobs?: boolean
  /**
   * The model family's special-token ids: the template skeleton that decides the `template` break class and
   * the closing token `merge-lossy` aligns on (e.g. `QWEN3_SPECIAL_TOKEN_IDS` for Qwen2.5/Qwen3). No default,
   * since another family's ids would misclassify breaks: without them no break is called `template` (its
   * `detail` says so), and `onBreak: 'merge-lossy'` is refused.
   */
  specialTokenIds?: Iterable<number>
  /** Decoder for the `retokenization` class and for log excerpts; without it such breaks are `other`. */
  tokenizer?: Pick<TextTokenizer, 'decode'>
}

/** How a turn joined its sequence. */
export type TurnJoin = 'start' | 'prefix' | 'lossy'

/** Where one turn lies inside its sequence (token offsets, end exclusive). */
export interface SequenceTurn {
  /** Position of the record in the rollout (0-based). */
  turnIndex: number
  /** How the turn joined: first turn of the sequence, exact prefix extension, or lossy merge. */
  join: TurnJoin
  /** Offset of the prompt tokens this turn added (for `start`: 0). */
  promptStart: number
  /** Offset of the turn's response (= end of its added prompt tokens). */
  responseStart: number
  /** End of the turn's response. */
  responseEnd: number
  /** The record's finish reason. */
  finishReason: FinishReason | null
  /** The record's `verification.verified`. */
  verified: boolean
  /** When the call was sent (the record's `timing.startedAt`; milliseconds since the Unix epoch). */
  startedAt: number
  /** When the call's record was finished (the record's `timing.endedAt`; milliseconds since the Unix epoch). */
  endedAt: number
  /**
   * For a token-in turn that joined by prefix: what its added prompt tokens are (separators, a synthesised
   * end-of-turn token, the new messages, the generation prompt), from the record's `tokenIn.segments`, as
   * offsets in this sequence. All carry loss mask 0. Absent for other turns.
   */
  tokenInSegments?: TokenInSegment[]
}

/** One training row: a sequence of merged turns with its loss mask and logprobs. */
export interface TrainingSequence {
  /** Position in {@link Trajectory.sequences}. */
  index: number
  /** Every token id: the first prompt, then per turn the new prompt suffix and the response. */
  tokenIds: number[]
  /** `1` on response tokens, `0` on prompt, tool-result and user tokens. Same length as `tokenIds`. */
  lossMask: Array<0 | 1>
  /** Logprob per token, `null` where none is known (prompt tokens, or responses without logprobs). */
  logprobs: Array<number | null>
  /** Length of the first turn's prompt: everything after it is the "response" part trainers take. */
  promptLength: number
  /** The turns of this sequence, in order. */
  turns: SequenceTurn[]
  /** `true` when every token id is exactly what vLLM served and the sequence is what the model saw. */
  exact: boolean
  /** Why the sequence is not exact (empty when it is). */
  issues: string[]
  /** `true` when every loss-mask-1 token has a logprob. */
  logprobsComplete: boolean
}

/** A turn the builder left out (policy `exclude`, or a record without ids under `flag`). */
export interface ExcludedTurn {
  /** Position of the record in the rollout. */
  turnIndex: number
  /** The record's verification status. */
  status: VerificationStatus
  /** Why, in words. */
  detail: string
}

/** Counters of one build. */
export interface TrajectoryMetrics {
  /** Records given. */
  turns: number
  /** Records that are part of a sequence. */
  turnsIncluded: number
  /** Turns appended to an existing sequence because their prompt extended the previous context exactly. */
  turnsMerged: number
  /** Turns appended across a break by the `merge-lossy` policy. */
  lossyMerges: number
  /** Records left out. */
  turnsExcluded: number
  /** Sequences produced. */
  sequences: number
  /** Prefix breaks by class. */
  breaks: Record<PrefixBreakKind, number>
  /** Tokens in all sequences. */
  tokensInSequences: number
  /** Tokens one row per included turn (prompt + response each) would hold. */
  tokensInPerTurnRows: number
  /** `tokensInPerTurnRows - tokensInSequences`: history not repeated thanks to merging. */
  tokensSaved: number
  /** `tokensInPerTurnRows / tokensInSequences` (1 when empty). */
  compressionRatio: number
}

/** The result of a build: training sequences, the breaks found, excluded turns and metrics. */
export interface Trajectory {
  /** Training sequences in order. */
  sequences: TrainingSequence[]
  /** Every prefix break found, in turn order. */
  breaks: PrefixBreak[]
  /** Turns left out. */
  excludedTurns: ExcludedTurn[]
  /** Counters. */
  metrics: TrajectoryMetrics
}

/** What {@link TrajectoryBuilder.add} did with one record. */
export interface TurnOutcome {
  /** Position of the record in the rollout. */
  turnIndex: number
  /** `started` a sequence, `merged` into one, `merged-lossy` across a break, or `excluded`. */
  action: 'started' | 'merged' | 'merged-lossy' | 'excluded'
  /** The break found before this turn, when there was one. */
  break: PrefixBreak | null
}
