import { OptionReader } from '@vllm-tito/spec'
import { TrainerRowError } from './errors'
import { type CheckedRollout, checkRollouts, type Rollout, type RolloutFailure } from './rollout'
import {
  applyLogprobRule,
  emptyResponsePart,
  type InexactHandling,
  type MixedLogprobsHandling,
  placeReward,
  type ResponsePart,
  type RewardPlacement,
  responsePart,
  type SequenceStatus,
  selectSequences,
  sequenceStatus,
} from './sequence-rows'
import type { TrainingSequence } from './trajectory-types'

/**
 * The `Sample.Status` values (`slime/utils/types.py`) a finished sample can have: `completed`, `truncated`
 * (the last call hit `length`), `aborted` (interrupted: slime puts such samples back to be generated again),
 * `failed` (a tool or API failure; the sample keeps what it has).
 */
export type SlimeStatus = SequenceStatus

/** What a slime sample adds under `metadata.vllm_tito`. */
export interface SlimeSampleInfo {
  /** The rollout's `taskId` (also `group_index`). */
  task_id: number
  /** The rollout's `sampleIndex` within its group. */
  sample_index: number
  /** `index` of the sequence in the trajectory, or `null` for an empty-response sample. */
  sequence_index: number | null
  /** How many sequences the rollout's trajectory has. */
  sequences_in_rollout: number
  /** Prefix breaks found in the rollout. */
  prefix_breaks: number
  /** The rollout's failure, when it failed. */
  failure: RolloutFailure | null
}

/**
 * A slime `Sample` (`slime/utils/types.py`), as `Sample.from_dict(row)` takes it: `tokens` the whole sequence,
 * `response_length` the tokens after the first prompt, `loss_mask` and `rollout_log_probs` covering only those
 * tokens (`0.0` on mask-0 tokens, `null` for the whole batch when a model token has none), `reward` (`null`:
 * slime's reward model scores it), `status`, and the ids slime groups by.
 */
export interface SlimeSample {
  /** The prompt group (the rollout's `taskId`): GRPO normalises rewards within it. */
  group_index: number
  /** The sample's index (the rollout's `rolloutId`, as slime's data source numbers samples). */
  index: number
  /** Shared by every sample of one rollout (the rollout's `rolloutId`): slime's loss averages within it. */
  rollout_id: number
  /** The whole sequence: the first prompt, then every response and everything between them. */
  tokens: number[]
  /** How many of the last `tokens` are the response part (everything after the first prompt). */
  response_length: number
  /** One entry per response token: 1 on model tokens, 0 on tool results and user turns. */
  loss_mask: Array<0 | 1>
  /** One natural-log probability per response token, `0.0` on mask-0 tokens; `null` for the whole batch when a model token has none. */
  rollout_log_probs: number[] | null
  /** The sample's reward under the reward placement, or `null` to let slime's reward model score it. */
  reward: number | null
  /** How the sample ended. */
  status: SlimeStatus
  /** Where the sample comes from, under `vllm_tito`. */
  metadata: { vllm_tito: SlimeSampleInfo }
}

/** Options of {@link toSlimeSamples}. */
export interface SlimeExportOptions {
  /** Inexact sequences (flagged unverified turns, lossy merges). Default `throw`. */
  inexact?: InexactHandling
  /** Some samples with logprobs and others without. Default `drop`. */
  mixedLogprobs?: MixedLogprobsHandling
  /**
   * Reward of a rollout that split into several samples. Default `repeat`: slime's own multi-sample rollouts
   * (`slime/agent/trajectory.py`) give every sample the full reward and share `rollout_id`, so the loss counts
   * the rollout once.
   */
  rewardPlacement?: RewardPlacement
}

const OPTION_NAMES = ['inexact', 'mixedLogprobs', 'rewardPlacement']

interface SlimeRow {
  rollout: CheckedRollout
  rolloutIndex: number
  part: ResponsePart
  sequence: TrainingSequence | null
  reward: number | null
}

/**
 * slime samples, one per sequence, the samples of one rollout next to each other (what a custom generate
 * function returns as `list[Sample]`). Every rollout gives at least one sample, so GRPO groups stay complete.
 *
 * @throws InvalidOptionError (from spec) on a bad option or rollout field.
 * @throws TrainerRowError when the batch breaks one of slime's rules (see its `rule`).
 * @throws InexactSequenceError on an inexact sequence under `inexact: 'throw'`.
 */
export function toSlimeSamples(
  rollouts: readonly Rollout[],
  options: SlimeExportOptions = {},
): SlimeSample[] {
  const read = new OptionReader('toSlimeSamples', options).rejectUnknown(OPTION_NAMES)
  const inexact = read.oneOf('inexact', ['throw', 'skip', 'include']) ?? 'throw'
  const mixedLogprobs = read.oneOf('mixedLogprobs', ['drop', 'throw']) ?? 'drop'
  const placement = read.oneOf('rewardPlacement', ['last-sequence', 'split', 'repeat']) ?? 'repeat'
  const checked = checkRollouts('slime', 'toSlimeSamples', rollouts)
  for (const rollout of checked) requireIntegerIds(rollout)

  const rows = checked.flatMap((rollout): SlimeRow[] => {
    const selected = selectSequences(rollout, inexact)
    if (selected.length === 0) {
      if (rollout.promptTokenIds === null) {
        throw new TrainerRowError(
          'slime',
          'row-required',
          rollout.position,
          `the rollout has no sequence to export (${rollout.failure ? 'it failed before its first record' : 'no record was included'}), and slime's GRPO groups need every sample; give the rollout promptTokenIds (the task's prompt ids from /tokenize) for an empty-response sample`,
        )
      }
      const part = emptyResponsePart(rollout.promptTokenIds)
      return [{ rollout, rolloutIndex: rollout.position, part, sequence: null, reward: rollout.reward }]
    }
    const rewards = placeReward(rollout.reward, selected.length, placement)
    return selected.map((sequence, index) => ({
      rollout,
      rolloutIndex: rollout.position,
      part: responsePart(sequence),
      sequence,
      reward: rewards[index]!,
    }))
  })
  applyLogprobRule('slime', rows, mixedLogprobs)
  return rows.map(({ rollout, part, sequence, reward }) => ({
    group_index: rollout.taskId as number,
    index: rollout.rolloutId as number,
    rollout_id: rollout.rolloutId as number,
    tokens: [...part.promptIds, ...part.responseIds],
    response_length: part.responseIds.length,
    loss_mask: part.lossMask,
    rollout_log_probs: part.logprobs,
    reward,
    status: sequenceStatus(sequence, rollout.failure),
    metadata: {
      vllm_tito: {
        task_id: rollout.taskId as number,
        sample_index: rollout.sampleIndex,
        sequence_index: sequence ? sequence.index : null,
        sequences_in_rollout: rollout.sequences.length,
        prefix_breaks: rollout.breakCount,
        failure: rollout.failure,
      },
    },
  }))
}

/** slime's `group_index`, `index` and `rollout_id` are integers (its data source numbers groups and samples). */
function requireIntegerIds(rollout: CheckedRollout): void {
  for (const [field, value] of [
    ['taskId', rollout.taskId],
    ['rolloutId', rollout.rolloutId],
  ] as const) {
    if (typeof value !== 'number') {
      throw new TrainerRowError(
        'slime',
        'integer-ids',
        rollout.position,
        `${field} is ${JSON.stringify(value)}; slime's group_index, index and rollout_id are integers: pass the Sample's group_index as taskId and its index as rolloutId`,
      )
    }
  }
}
