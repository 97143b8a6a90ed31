import { InvalidOptionError, isPlainObject, isTokenIdList, OptionReader } from '@vllm-tito/spec'
import { type TrainerName, TrainerRowError } from './errors'
import type { TrainingSequence, Trajectory } from './trajectory-types'

/** What failed when a rollout did not end normally. */
export type RolloutFailureSource = 'api' | 'tool' | 'agent'

/**
 * Why a rollout did not end normally. A failed rollout still reaches the trainer: its rows carry the tokens
 * captured before the failure (or an empty response when it failed before its first record), the caller's
 * reward, and each trainer's failed status (slime `failed`, SkyRL stop reason `error`).
 */
export interface RolloutFailure {
  /** `api`: a model call failed (HTTP error, dropped stream); `tool`: a tool call failed; `agent`: the agent's own code. */
  source: RolloutFailureSource
  /** The error message, kept in the rows' metadata. */
  message: string
}

/**
 * One rollout of a task, ready for the trainer exports: its trajectory, its grouping ids and its reward. The
 * ids come from the trainer's own batch (verl's sample, SkyRL's `TrajectoryID`, slime's `Sample`), never
 * invented: every export checks them and throws when one is missing.
 */
export interface Rollout {
  /**
   * The task (prompt) the rollout answers: rollouts of one task form a GRPO group. SkyRL's `instance_id`
   * (written as a string), slime's `group_index` (must be an integer there).
   */
  taskId: string | number
  /** Position of this rollout within its task's group, from 0 (SkyRL's `repetition_id`). */
  sampleIndex: number
  /**
   * The id shared by every sequence of this rollout, unique in the batch (slime's `index` and `rollout_id`,
   * an integer there; Agent Lightning's `rollout_id`).
   */
  rolloutId: string | number
  /** The rollout's records built into sequences (`buildTrajectory`). */
  trajectory: Trajectory
  /** The rollout's reward, or `null` to let the trainer score it (where it can: verl, slime). */
  reward: number | null
  /** Set when the rollout failed (an API error before or between calls, a tool or agent error). */
  failure?: RolloutFailure | null
  /**
   * The task's prompt ids, for a rollout that has no sequence (it failed before its first record, or every
   * record was excluded): its row then holds this prompt and an empty response. Take them from vLLM's
   * `/tokenize` with the same messages and tools, so they are the ids the server would have used.
   */
  promptTokenIds?: readonly number[] | null
}

/** A rollout whose fields were checked, with its position in the batch. */
export interface CheckedRollout {
  /** Position in the batch given to the export. */
  position: number
  /** The rollout's `taskId`. */
  taskId: string | number
  /** The rollout's `sampleIndex`. */
  sampleIndex: number
  /** The rollout's `rolloutId`. */
  rolloutId: string | number
  /** The trajectory's sequences. */
  sequences: readonly TrainingSequence[]
  /** Prefix breaks found in the rollout. */
  breakCount: number
  /** The rollout's reward. */
  reward: number | null
  /** The rollout's failure, or `null`. */
  failure: RolloutFailure | null
  /** The rollout's `promptTokenIds`, or `null`. */
  promptTokenIds: readonly number[] | null
}

const ROLLOUT_FIELDS = [
  'taskId',
  'sampleIndex',
  'rolloutId',
  'trajectory',
  'reward',
  'failure',
  'promptTokenIds',
]
const FAILURE_SOURCES: readonly RolloutFailureSource[] = ['api', 'tool', 'agent']

/**
 * Checks every rollout of a batch (fields, types, unique ids) for the export `where` of `trainer`.
 *
 * @throws InvalidOptionError (from spec) naming the rollout and the field that is missing or malformed.
 * @throws TrainerRowError (`unique-ids`) when two rollouts share a task id and sample index, or a rollout id.
 */
export function checkRollouts(
  trainer: TrainerName,
  where: string,
  rollouts: readonly Rollout[],
): CheckedRollout[] {
  if (!Array.isArray(rollouts)) {
    throw new InvalidOptionError(where, 'rollouts', 'the rollouts must be an array of Rollout objects')
  }
  const checked = rollouts.map((rollout, position) =>
    checkRollout(`${where} rollouts[${position}]`, rollout, position),
  )
  rejectDuplicateIds(trainer, checked)
  return checked
}

function checkRollout(where: string, rollout: unknown, position: number): CheckedRollout {
  const read = new OptionReader(where, rollout).rejectUnknown(ROLLOUT_FIELDS)
  const taskId = read.custom('taskId', 'a non-empty string or an integer >= 0', isId, { required: true })
  const sampleIndex = read.integer('sampleIndex', { required: true })
  const rolloutId = read.custom('rolloutId', 'a non-empty string or an integer >= 0', isId, {
    required: true,
  })
  const trajectory = read.custom('trajectory', 'a Trajectory from buildTrajectory', isTrajectory, {
    required: true,
  })
  const reward = read.custom('reward', 'a finite number or null', isReward, { required: true })
  const failure = readFailure(where, read)
  const promptTokenIds = read.custom('promptTokenIds', 'an array of token ids or null', isOptionalIds) ?? null
  return {
    position,
    taskId,
    sampleIndex,
    rolloutId,
    sequences: trajectory.sequences,
    breakCount: trajectory.breaks.length,
    reward,
    failure,
    promptTokenIds,
  }
}

function readFailure(where: string, read: OptionReader): RolloutFailure | null {
  if (read.raw('failure') === null) return null
  const failure = read.object('failure')
  if (failure === undefined) return null
  const failureRead = new OptionReader(`${where} failure`, failure).rejectUnknown(['source', 'message'])
  return {
    source: failureRead.oneOf('source', FAILURE_SOURCES, { required: true }),
    message: failureRead.string('message', { required: true }),
  }
}

function rejectDuplicateIds(trainer: TrainerName, rollouts: readonly CheckedRollout[]): void {
  const bySample = new Map<string, number>()
  const byRollout = new Map<string, number>()
  for (const rollout of rollouts) {
    const sampleKey = JSON.stringify([rollout.taskId, rollout.sampleIndex])
    const rolloutKey = JSON.stringify(rollout.rolloutId)
    const sameSample = bySample.get(sampleKey)
    if (sameSample !== undefined) {
      throw new TrainerRowError(
        trainer,
        'unique-ids',
        rollout.position,
        `task ${JSON.stringify(rollout.taskId)} sample ${rollout.sampleIndex} is also rollout ${sameSample}; each sample of a group needs its own sampleIndex`,
      )
    }
    const sameRollout = byRollout.get(rolloutKey)
    if (sameRollout !== undefined) {
      throw new TrainerRowError(
        trainer,
        'unique-ids',
        rollout.position,
        `rolloutId ${rolloutKey} is also rollout ${sameRollout}'s; trainers would count both as one rollout`,
      )
    }
    bySample.set(sampleKey, rollout.position)
    byRollout.set(rolloutKey, rollout.position)
  }
}

function isId(value: unknown): value is string | number {
  return (
    (typeof value === 'string' && value !== '') || (Number.isSafeInteger(value) && (value as number) >= 0)
  )
}

function isReward(value: unknown): value is number | null {
  return value === null || (typeof value === 'number' && Number.isFinite(value))
}

function isOptionalIds(value: unknown): value is readonly number[] | null {
  return value === null || isTokenIdList(value)
}

function isTrajectory(value: unknown): value is Trajectory {
  return isPlainObject(value) && Array.isArray(value.sequences) && Array.isArray(value.breaks)
}
