import { InexactSequenceError, type TrainerName, TrainerRowError } from './errors'
import type { CheckedRollout, RolloutFailure } from './rollout'
import type { SequenceTurn, TrainingSequence } from './trajectory-types'

/** What an export does with a sequence whose `exact` is `false`: throw (default), leave it out, or export it. */
export type InexactHandling = 'throw' | 'skip' | 'include'

/**
 * What an export does when some rows of the batch have complete logprobs and others not (verl, SkyRL and
 * slime take logprobs for the whole batch or not at all): `drop` (default) writes `null` logprobs on every row;
 * `throw` raises {@link TrainerRowError} (`logprobs-all-or-none`) naming the rollouts without them.
 */
export type MixedLogprobsHandling = 'drop' | 'throw'

/**
 * How a rollout's reward is spread over its sequences when it split at a prefix break (one sequence: it gets
 * the reward whatever the placement): `last-sequence` (the full reward on the last sequence, `0` on the
 * others), `split` (reward / number of sequences on each), `repeat` (the full reward on each; the shared
 * rollout id tells the trainer they are one rollout).
 */
export type RewardPlacement = 'last-sequence' | 'split' | 'repeat'

/** How a sequence (or a rollout without one) ended, in the trainers' words. */
export type SequenceStatus = 'completed' | 'truncated' | 'aborted' | 'failed'

/** The training part of one row: the first prompt, then everything after it with its mask and logprobs. */
export interface ResponsePart {
  /** The first turn's prompt. */
  promptIds: number[]
  /** Everything after the prompt: responses (mask 1), tool results and user turns (mask 0). */
  responseIds: number[]
  /** One entry per response id. */
  lossMask: Array<0 | 1>
  /** One entry per response id, `0.0` on mask-0 tokens; `null` when a model token has none. */
  logprobs: number[] | null
}

/** The sequences of `rollout` an export takes, by the `inexact` policy. */
export function selectSequences(rollout: CheckedRollout, inexact: InexactHandling): TrainingSequence[] {
  const selected: TrainingSequence[] = []
  for (const sequence of rollout.sequences) {
    if (!sequence.exact) {
      if (inexact === 'throw')
        throw new InexactSequenceError(sequence.index, sequence.issues, rollout.position)
      if (inexact === 'skip') continue
    }
    selected.push(sequence)
  }
  return selected
}

/** The prompt and response part of `sequence`; mask and logprobs cover exactly the response ids. */
export function responsePart(sequence: TrainingSequence): ResponsePart {
  const start = sequence.promptLength
  let logprobs: number[] | null = null
  if (sequence.logprobsComplete) {
    // mask-0 tokens were not sampled: 0.0 there is the trainers' own convention and is never trained on
    logprobs = sequence.logprobs.slice(start).map((logprob) => logprob ?? 0)
  }
  return {
    promptIds: sequence.tokenIds.slice(0, start),
    responseIds: sequence.tokenIds.slice(start),
    lossMask: sequence.lossMask.slice(start),
    logprobs,
  }
}

/** The row of a rollout without a sequence: its task prompt and an empty response (nothing to train on). */
export function emptyResponsePart(promptIds: readonly number[]): ResponsePart {
  return { promptIds: promptIds.slice(), responseIds: [], lossMask: [], logprobs: [] }
}

/**
 * Applies the trainers' all-or-none logprob rule to a batch, in place: when some rows with model tokens have
 * logprobs and others not, every row gets `null` (`drop`) or {@link TrainerRowError} is thrown (`throw`).
 * A row without model tokens (only `0.0`s, or empty) follows the batch. Returns `true` when logprobs were dropped.
 */
export function applyLogprobRule(
  trainer: TrainerName,
  rows: ReadonlyArray<{ rolloutIndex: number; part: ResponsePart }>,
  mixed: MixedLogprobsHandling,
): boolean {
  const withModelTokens = rows.filter((row) => row.part.lossMask.includes(1))
  const missing = withModelTokens.filter((row) => row.part.logprobs === null)
  if (missing.length === 0) return false
  if (missing.length < withModelTokens.length && mixed === 'throw') {
    const positions = [...new Set(missing.map((row) => row.rolloutIndex))].join(', ')
    throw new TrainerRowError(
      trainer,
      'logprobs-all-or-none',
      missing[0]!.rolloutIndex,
      `rollouts ${positions} lack logprobs on some model tokens while others have them; ${trainer} takes logprobs for the whole batch or not at all (request logprobs on every call, or pass mixedLogprobs: 'drop')`,
    )
  }
  for (const row of rows) row.part.logprobs = null
  return missing.length < withModelTokens.length
}

/** The reward of each of `count` sequences of one rollout under `placement`. */
export function placeReward(
  reward: number | null,
  count: number,
  placement: RewardPlacement,
): Array<number | null> {
  if (reward === null) return Array.from({ length: count }, () => null)
  if (placement === 'repeat') return Array.from({ length: count }, () => reward)
  if (placement === 'split') return Array.from({ length: count }, () => reward / count)
  return Array.from({ length: count }, (_, index) => (index === count - 1 ? reward : 0))
}

/**
 * The status of a row: `failed` for every row of a failed rollout; otherwise from the last turn's finish
 * reason (`length` → `truncated`, `abort` or none at all → `aborted`, `error` → `failed`, else `completed`).
 */
export function sequenceStatus(
  sequence: TrainingSequence | null,
  failure: RolloutFailure | null,
): SequenceStatus {
  if (failure !== null) return 'failed'
  if (sequence === null) return 'completed'
  const finishReason = sequence.turns.at(-1)?.finishReason ?? null
  if (finishReason === 'length') return 'truncated'
  if (finishReason === 'abort' || finishReason === null) return 'aborted'
  if (finishReason === 'error') return 'failed'
  return 'completed'
}

/** Seconds spent inside the model calls of `turns` (each call from sent to finished). */
export function callSeconds(turns: readonly SequenceTurn[]): number {
  let milliseconds = 0
  for (const turn of turns) milliseconds += Math.max(0, turn.endedAt - turn.startedAt)
  return milliseconds / 1000
}

/** Seconds between the calls of `turns` (tool execution and agent code between one call and the next). */
export function gapSeconds(turns: readonly SequenceTurn[]): number {
  let milliseconds = 0
  for (let index = 1; index < turns.length; index += 1) {
    milliseconds += Math.max(0, turns[index]!.startedAt - turns[index - 1]!.endedAt)
  }
  return milliseconds / 1000
}
