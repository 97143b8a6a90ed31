import { isTokenRecord, type TokenRecord, untilAborted } from '@vllm-tito/spec'
import { describeError } from './classify-failure'
import type { RolloutFailureInfo, RolloutOutput } from './rollout-types'
import type { PlannedRollout, RunSettings } from './run-options'

/** What the reward function scores. */
export interface ScoreInput {
  answer: string | null
  records: readonly TokenRecord[]
  failure: RolloutFailureInfo | null
  output: RolloutOutput | null
}

/** The reward and the failure it adds, or `cancelled` when the run was cancelled while the reward ran. */
export type Score = { reward: number | null; failure: RolloutFailureInfo | null } | { cancelled: true }

/**
 * The reward; a reward function that throws or returns a non-number fails the rollout but keeps its records.
 * The reward function gets the run's signal and is not waited for once it aborts (an LLM judge that hangs
 * must not hold a cancelled run): the rollout then counts as cancelled, not finished.
 */
export async function scoreRollout(
  planned: PlannedRollout,
  settings: RunSettings,
  input: ScoreInput,
  runSignal: AbortSignal,
): Promise<Score> {
  const ownReward = input.output?.reward ?? null
  const rewardFunction = settings.reward
  if (rewardFunction === undefined) return { reward: ownReward, failure: null }
  if (runSignal.aborted) return { cancelled: true }
  try {
    const scoring = (async () =>
      rewardFunction(planned.task, {
        answer: input.answer,
        records: input.records,
        failure: input.failure,
        reward: ownReward,
        rolloutId: planned.rolloutId,
        sampleIndex: planned.sampleIndex,
        signal: runSignal,
      }))()
    const reward = await untilAborted(scoring, runSignal)
    if (reward === null || (typeof reward === 'number' && Number.isFinite(reward))) {
      return { reward, failure: null }
    }
    return {
      reward: null,
      failure: rewardFailure(`the reward function returned ${String(reward)}, not a finite number or null`),
    }
  } catch (error) {
    // a reward cut by the cancel (or one that failed because of it) is no verdict on the rollout
    if (runSignal.aborted) return { cancelled: true }
    return { reward: null, failure: rewardFailure(`the reward function threw ${describeError(error)}`) }
  }
}

/** Why a rollout function's output cannot be used, or `undefined` when it is a rollout output. */
export function findOutputProblem(output: unknown): string | undefined {
  if (typeof output !== 'object' || output === null) {
    return `the rollout function must resolve with { records, answer?, reward? }, got ${String(output)}`
  }
  const { records, answer, reward } = output as Partial<RolloutOutput>
  if (!Array.isArray(records)) return 'the rollout function resolved without a `records` array'
  const bad = records.findIndex((record) => !isTokenRecord(record))
  if (bad !== -1) return `the rollout function's records[${bad}] is not a TokenRecord`
  if (answer !== undefined && answer !== null && typeof answer !== 'string') {
    return 'the rollout function resolved with an `answer` that is not a string or null'
  }
  if (reward !== undefined && reward !== null && !(typeof reward === 'number' && Number.isFinite(reward))) {
    return 'the rollout function resolved with a `reward` that is not a finite number or null'
  }
  return undefined
}

/** A failure of the agent's own code (never retried). */
export function agentFailure(message: string): RolloutFailureInfo {
  return { kind: 'agent', source: 'agent', message, retryable: false, statusCode: null }
}

function rewardFailure(message: string): RolloutFailureInfo {
  return { kind: 'reward', source: 'agent', message, retryable: false, statusCode: null }
}

/** The failure of a rollout that made no model call through its context. */
export function noRecordsFailure(): RolloutFailureInfo {
  return {
    kind: 'no-records',
    source: 'agent',
    message:
      'the rollout made no model call through its context (for a Strands agent: build it with context.model and context.recorder)',
    retryable: false,
    statusCode: null,
  }
}
