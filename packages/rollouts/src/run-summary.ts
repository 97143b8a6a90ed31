import type { RolloutFailureKind, RolloutResult } from './rollout-types'
import type { LeftOutRollout } from './trainer-rows'

/** The rewards of one task's group. */
export interface GroupSummary {
  /** The task's id. */
  taskId: string | number
  /** Rollouts of the group in the results. */
  rollouts: number
  /** Rollouts that succeeded. */
  succeeded: number
  /** Mean of the group's non-null rewards, or `null` when none has one. */
  rewardMean: number | null
  /** Population standard deviation of the non-null rewards (0 for equal rewards: GRPO learns nothing there). */
  rewardStd: number | null
}

/** What a run produced, for the end-of-run report. */
export interface RunSummary {
  /** Rollouts in the results. */
  rollouts: number
  /** Rollouts that succeeded. */
  succeeded: number
  /** Rollouts that failed, by the kind of their failure. */
  failedByKind: Partial<Record<RolloutFailureKind, number>>
  /** `succeeded / rollouts` (0 for no rollout). */
  successRate: number
  /** Token records (model calls) in the results. */
  records: number
  /** Records whose ids were verified against the server's usage. */
  verifiedRecords: number
  /** `verifiedRecords / records` (0 for no record). */
  verifiedShare: number
  /** Completion tokens the model produced (sum of the records' ids). */
  completionTokens: number
  /** Tokens with loss mask 1 in the trainer rows, when the rows were built. */
  tokensTrainedOn: number | null
  /** The rollouts the trainer rows leave out (`TrainerRows.leftOut`); empty when every rollout has its rows. */
  leftOut: LeftOutRollout[]
  /** Model calls by request mode. */
  modelCalls: { streamed: number; nonStreamed: number }
  /** Rollouts that needed more than one attempt. */
  retriedRollouts: number
  /** Mean of every non-null reward, or `null`. */
  rewardMean: number | null
  /** One entry per task, in task order. */
  groups: GroupSummary[]
}

/**
 * Sums up results (any order); `tokensTrainedOn` and `leftOut` come from the rows, when they were built
 * (`tokensTrainedOn(rows)`, `rows.leftOut`).
 */
export function summarizeRun(
  results: readonly RolloutResult[],
  tokensTrainedOn: number | null = null,
  leftOut: readonly LeftOutRollout[] = [],
): RunSummary {
  const failedByKind: Partial<Record<RolloutFailureKind, number>> = {}
  const groups = new Map<number, { taskId: string | number; results: RolloutResult[] }>()
  let records = 0
  let verifiedRecords = 0
  let completionTokens = 0
  const modelCalls = { streamed: 0, nonStreamed: 0 }
  for (const result of results) {
    if (result.failure !== null)
      failedByKind[result.failure.kind] = (failedByKind[result.failure.kind] ?? 0) + 1
    for (const record of result.records) {
      records += 1
      if (record.verification.verified) verifiedRecords += 1
      completionTokens += record.tokenIds?.length ?? 0
    }
    modelCalls.streamed += result.modelCalls.streamed
    modelCalls.nonStreamed += result.modelCalls.nonStreamed
    const group = groups.get(result.taskIndex) ?? { taskId: result.taskId, results: [] }
    group.results.push(result)
    groups.set(result.taskIndex, group)
  }
  const succeeded = results.filter((result) => result.status === 'succeeded').length
  return {
    rollouts: results.length,
    succeeded,
    failedByKind,
    successRate: results.length === 0 ? 0 : succeeded / results.length,
    records,
    verifiedRecords,
    verifiedShare: records === 0 ? 0 : verifiedRecords / records,
    completionTokens,
    tokensTrainedOn,
    leftOut: [...leftOut],
    modelCalls,
    retriedRollouts: results.filter((result) => result.attempts > 1).length,
    rewardMean: mean(rewardsOf(results)),
    groups: [...groups.entries()]
      .sort(([left], [right]) => left - right)
      .map(([, group]) => summarizeGroup(group.taskId, group.results)),
  }
}

function summarizeGroup(taskId: string | number, results: readonly RolloutResult[]): GroupSummary {
  const rewards = rewardsOf(results)
  const rewardMean = mean(rewards)
  return {
    taskId,
    rollouts: results.length,
    succeeded: results.filter((result) => result.status === 'succeeded').length,
    rewardMean,
    rewardStd:
      rewardMean === null
        ? null
        : Math.sqrt(rewards.reduce((sum, reward) => sum + (reward - rewardMean) ** 2, 0) / rewards.length),
  }
}

function rewardsOf(results: readonly RolloutResult[]): number[] {
  return results.flatMap((result) => (result.reward === null ? [] : [result.reward]))
}

function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((sum, value) => sum + value, 0) / values.length
}
