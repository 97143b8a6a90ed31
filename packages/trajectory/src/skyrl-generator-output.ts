import { isPlainObject, isTokenId, OptionReader } from '@vllm-tito/spec'
import { TrainerRowError } from './errors'
import { type CheckedRollout, checkRollouts, type Rollout } from './rollout'
import {
  applyLogprobRule,
  callSeconds,
  emptyResponsePart,
  gapSeconds,
  type InexactHandling,
  type MixedLogprobsHandling,
  placeReward,
  type ResponsePart,
  responsePart,
  selectSequences,
} from './sequence-rows'
import type { TrainingSequence } from './trajectory-types'

/** SkyRL's `TrajectoryID` (`skyrl/train/generators/base.py`): which sample of which dataset instance. */
export interface SkyRLTrajectoryId {
  /** The dataset instance (the rollout's `taskId`, as a string): SkyRL's GRPO group key (`uid`). */
  instance_id: string
  /** The sample of that instance, 0…n-1 (the rollout's `sampleIndex`). */
  repetition_id: number
}

/**
 * SkyRL's `GeneratorOutput` (`skyrl/train/generators/base.py`): one column per field, one entry per row, rows in
 * `input_batch` order (step-wise: the rows of one trajectory next to each other). Keys SkyRL's own generator
 * leaves `None` are written as `null`.
 */
export interface SkyRLGeneratorOutput {
  /** The first turn's prompt of each row. */
  prompt_token_ids: number[][]
  /** Everything after the prompt: responses, tool results, user turns. */
  response_ids: number[][]
  /** One number per row (`scalar`), or one per response token (`per-token`); never `null`. */
  rewards: number[] | number[][]
  /** 1 on model tokens, 0 on the rest; same lengths as `response_ids`. */
  loss_masks: Array<Array<0 | 1>>
  /** vLLM's engine-level finish reason of the row's last call (`stop`, `length`, `abort`), or `error` for a failed rollout. */
  stop_reasons: string[]
  /** Metrics SkyRL logs as they are (the trainer reads this key, so it is always present). */
  rollout_metrics: Record<string, number>
  /** Aligned with `response_ids`, `0.0` on mask-0 tokens; `null` for the whole column when a row lacks them. */
  rollout_logprobs: number[][] | null
  /** Which sample each row belongs to (required by step-wise training; written in both modes). */
  trajectory_ids: SkyRLTrajectoryId[]
  /** Step-wise: `true` on the last row of each trajectory; `null` otherwise, as SkyRL's generator writes it. */
  is_last_step: boolean[] | null
  /** Seconds from a rollout's first call to its last call's end, per row; `null` when a rollout made no call. */
  trajectory_generation_times: number[] | null
  /** `llm`: seconds inside model calls, `env`: seconds between them, per row; `null` when a rollout made no call. */
  trajectory_time_splits: { llm: number[]; env: number[] } | null
  /** Routed-expert indices: not captured (`null`). */
  rollout_expert_indices: null
  /** Per-row environment metrics: none (`null`). */
  env_metrics: null
}

/** Options of {@link toSkyRLGeneratorOutput}. */
export interface SkyRLExportOptions {
  /** Inexact sequences (flagged unverified turns, lossy merges). Default `throw`. */
  inexact?: InexactHandling
  /** Some rows with logprobs and others without. Default `drop`. */
  mixedLogprobs?: MixedLogprobsHandling
  /**
   * SkyRL's `generator.step_wise_trajectories`: `true` lets a rollout that split at a prefix break give one row
   * per sequence (with `is_last_step`). Default `false`: a split rollout throws `TrainerRowError` `single-sequence`.
   */
  stepWise?: boolean
  /**
   * Step-wise reward placement: `last-sequence` (default) or `repeat`. SkyRL computes a step-wise trajectory's
   * advantage from its last step's reward only, so `split` is refused.
   */
  rewardPlacement?: 'last-sequence' | 'repeat'
  /** `scalar` (default: SkyRL puts it on the last token itself) or `per-token` (`List[List[float]]`, reward on the last response token). */
  rewardShape?: 'scalar' | 'per-token'
  /** The `input_batch`'s `trajectory_ids`: when given, rows follow that order and every id must match one rollout. */
  inputTrajectoryIds?: readonly SkyRLTrajectoryId[]
  /**
   * A token id (e.g. the tokenizer's EOS) given, with mask 0, as the one response token of a row that has none
   * (a rollout that failed before its first call): SkyRL writes a scalar reward at `response[-1]`. Without it
   * such a rollout throws `TrainerRowError` `row-required`.
   */
  emptyResponseTokenId?: number
}

const OPTION_NAMES = [
  'inexact',
  'mixedLogprobs',
  'stepWise',
  'rewardPlacement',
  'rewardShape',
  'inputTrajectoryIds',
  'emptyResponseTokenId',
]

/** One row of the output before it is split into columns. */
interface SkyRLRow {
  rollout: CheckedRollout
  rolloutIndex: number
  part: ResponsePart
  sequence: TrainingSequence | null
  reward: number
  isLastStep: boolean
}

/**
 * One SkyRL `GeneratorOutput` for a batch of rollouts: what `GeneratorInterface.generate(input_batch)` returns.
 *
 * @throws InvalidOptionError (from spec) on a bad option or rollout field.
 * @throws TrainerRowError when the batch breaks one of SkyRL's rules (see its `rule`).
 * @throws InexactSequenceError on an inexact sequence under `inexact: 'throw'`.
 */
export function toSkyRLGeneratorOutput(
  rollouts: readonly Rollout[],
  options: SkyRLExportOptions = {},
): SkyRLGeneratorOutput {
  const read = new OptionReader('toSkyRLGeneratorOutput', options).rejectUnknown(OPTION_NAMES)
  const inexact = read.oneOf('inexact', ['throw', 'skip', 'include']) ?? 'throw'
  const mixedLogprobs = read.oneOf('mixedLogprobs', ['drop', 'throw']) ?? 'drop'
  const stepWise = read.boolean('stepWise') ?? false
  if (read.raw('rewardPlacement') === 'split') {
    read.fail(
      'rewardPlacement',
      "option `rewardPlacement: 'split'` is not offered for SkyRL: step-wise advantages come from the last step's reward only, so a split reward would shrink the trajectory's advantage",
      ['last-sequence', 'repeat'],
    )
  }
  const placement = read.oneOf('rewardPlacement', ['last-sequence', 'repeat']) ?? 'last-sequence'
  const rewardShape = read.oneOf('rewardShape', ['scalar', 'per-token']) ?? 'scalar'
  const inputIds = read.custom('inputTrajectoryIds', 'an array of { instance_id, repetition_id }', isIdList)
  const emptyTokenId = read.custom('emptyResponseTokenId', 'a token id', isTokenId)
  const checked = checkRollouts('skyrl', 'toSkyRLGeneratorOutput', rollouts)
  const ordered = inputIds ? orderByInput(checked, inputIds) : checked

  const rows = ordered.flatMap((rollout) => rolloutRows(rollout, inexact, stepWise, placement, emptyTokenId))
  if (rows.length === 0) {
    throw new TrainerRowError(
      'skyrl',
      'row-required',
      null,
      'no rollouts given; SkyRL rejects an empty GeneratorOutput',
    )
  }
  const logprobsDropped = applyLogprobRule('skyrl', rows, mixedLogprobs)
  const times = generationTimes(rows)
  return {
    prompt_token_ids: rows.map((row) => row.part.promptIds),
    response_ids: rows.map((row) => row.part.responseIds),
    rewards:
      rewardShape === 'scalar'
        ? rows.map((row) => row.reward)
        : rows.map((row) =>
            row.part.responseIds.map((_, index, ids) => (index === ids.length - 1 ? row.reward : 0)),
          ),
    loss_masks: rows.map((row) => row.part.lossMask),
    stop_reasons: rows.map(stopReason),
    rollout_metrics: rolloutMetrics(ordered, rows.length, logprobsDropped),
    rollout_logprobs: rows[0]?.part.logprobs === null ? null : rows.map((row) => row.part.logprobs!),
    trajectory_ids: rows.map((row) => ({
      instance_id: String(row.rollout.taskId),
      repetition_id: row.rollout.sampleIndex,
    })),
    is_last_step: stepWise ? rows.map((row) => row.isLastStep) : null,
    trajectory_generation_times: times?.total ?? null,
    trajectory_time_splits: times ? { llm: times.llm, env: times.env } : null,
    rollout_expert_indices: null,
    env_metrics: null,
  }
}

/** The rows of one rollout: one per sequence (several only step-wise), or one empty-response row. */
function rolloutRows(
  rollout: CheckedRollout,
  inexact: InexactHandling,
  stepWise: boolean,
  placement: 'last-sequence' | 'repeat',
  emptyTokenId: number | undefined,
): SkyRLRow[] {
  const selected = selectSequences(rollout, inexact)
  if (!stepWise && selected.length > 1) {
    throw new TrainerRowError(
      'skyrl',
      'single-sequence',
      rollout.position,
      `the rollout split into ${selected.length} sequences at prefix breaks; SkyRL takes one row per trajectory unless generator.step_wise_trajectories is on (pass stepWise: true), or build the trajectory with onBreak: 'merge-lossy'`,
    )
  }
  if (rollout.reward === null) {
    throw new TrainerRowError(
      'skyrl',
      'reward-required',
      rollout.position,
      'the reward is null; SkyRL reads every reward as float(reward), so give the rollout a number',
    )
  }
  const rewards = placeReward(rollout.reward, Math.max(1, selected.length), placement)
  const parts = selected.length > 0 ? selected.map(responsePart) : [emptyRow(rollout)]
  return parts.map((part, index) => {
    giveResponseToken(part, emptyTokenId, rollout)
    return {
      rollout,
      rolloutIndex: rollout.position,
      part,
      sequence: selected[index] ?? null,
      reward: rewards[index]!,
      isLastStep: index === parts.length - 1,
    }
  })
}

function emptyRow(rollout: CheckedRollout): ResponsePart {
  if (rollout.promptTokenIds === null) {
    throw new TrainerRowError(
      'skyrl',
      'row-required',
      rollout.position,
      `the rollout has no sequence to export (${rollout.failure ? 'it failed before its first record' : 'no record was included'}), and SkyRL needs a row per trajectory; give the rollout promptTokenIds (the task's prompt ids from /tokenize) and pass emptyResponseTokenId`,
    )
  }
  return emptyResponsePart(rollout.promptTokenIds)
}

/** SkyRL places a scalar reward at `response[-1]`: a row without response tokens gets one mask-0 token. */
function giveResponseToken(part: ResponsePart, tokenId: number | undefined, rollout: CheckedRollout): void {
  if (part.responseIds.length > 0) return
  if (tokenId === undefined) {
    throw new TrainerRowError(
      'skyrl',
      'row-required',
      rollout.position,
      'a row has no response token, and SkyRL writes the reward at response[-1]; pass emptyResponseTokenId (e.g. the EOS id) for a mask-0 placeholder',
    )
  }
  part.responseIds = [tokenId]
  part.lossMask = [0]
  part.logprobs = part.logprobs === null ? null : [0]
}

/** The rollouts in `input_batch` order; each id must match exactly one rollout. */
function orderByInput(
  rollouts: readonly CheckedRollout[],
  inputIds: readonly SkyRLTrajectoryId[],
): CheckedRollout[] {
  const byId = new Map(
    rollouts.map((rollout) => [idKey(String(rollout.taskId), rollout.sampleIndex), rollout]),
  )
  const ordered = inputIds.map((id, index) => {
    const rollout = byId.get(idKey(id.instance_id, id.repetition_id))
    if (rollout === undefined) {
      throw new TrainerRowError(
        'skyrl',
        'input-order',
        null,
        `input_batch trajectory ${index} (${id.instance_id}, ${id.repetition_id}) has no rollout; SkyRL needs one output per input, in input_batch order`,
      )
    }
    byId.delete(idKey(id.instance_id, id.repetition_id))
    return rollout
  })
  const extra = byId.values().next().value
  if (extra !== undefined) {
    throw new TrainerRowError(
      'skyrl',
      'input-order',
      extra.position,
      `task ${JSON.stringify(String(extra.taskId))} sample ${extra.sampleIndex} is not in the input_batch's trajectory_ids`,
    )
  }
  return ordered
}

function idKey(instanceId: string, repetitionId: number): string {
  return JSON.stringify([instanceId, repetitionId])
}

/** vLLM's engine stops on EOS (`stop`) even when its OpenAI layer reports `tool_calls` for a parsed call. */
function stopReason(row: SkyRLRow): string {
  if (row.rollout.failure !== null) return 'error'
  const finishReason = row.sequence?.turns.at(-1)?.finishReason ?? null
  if (finishReason === null) return 'abort'
  return finishReason === 'tool_calls' ? 'stop' : finishReason
}

/** Per-row times of each row's rollout (SkyRL repeats a trajectory's time on each of its steps). */
function generationTimes(
  rows: readonly SkyRLRow[],
): { total: number[]; llm: number[]; env: number[] } | null {
  const total: number[] = []
  const llm: number[] = []
  const env: number[] = []
  for (const row of rows) {
    const turns = row.rollout.sequences.flatMap((sequence) => sequence.turns)
    turns.sort((left, right) => left.turnIndex - right.turnIndex)
    const first = turns[0]
    const last = turns.at(-1)
    if (first === undefined || last === undefined) return null
    total.push(Math.max(0, last.endedAt - first.startedAt) / 1000)
    llm.push(callSeconds(turns))
    env.push(gapSeconds(turns))
  }
  return { total, llm, env }
}

function rolloutMetrics(
  rollouts: readonly CheckedRollout[],
  rowCount: number,
  logprobsDropped: boolean,
): Record<string, number> {
  return {
    'vllm_tito/rollouts': rollouts.length,
    'vllm_tito/rows': rowCount,
    'vllm_tito/split_rollouts': rollouts.filter((rollout) => rollout.sequences.length > 1).length,
    'vllm_tito/prefix_breaks': rollouts.reduce((sum, rollout) => sum + rollout.breakCount, 0),
    'vllm_tito/failed_rollouts': rollouts.filter((rollout) => rollout.failure !== null).length,
    'vllm_tito/logprobs_dropped': logprobsDropped ? 1 : 0,
  }
}

function isIdList(value: unknown): value is SkyRLTrajectoryId[] {
  return (
    Array.isArray(value) &&
    value.every(
      (id) =>
        isPlainObject(id) &&
        typeof id.instance_id === 'string' &&
        Number.isSafeInteger(id.repetition_id) &&
        (id.repetition_id as number) >= 0,
    )
  )
}
