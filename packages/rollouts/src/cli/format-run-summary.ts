import type { RunSummary } from '../run-summary'

/** Groups listed in the printed summary; the summary file has all of them. */
const GROUPS_SHOWN = 20

/** The end-of-run report: rollouts, success rate, verified share, tokens trained on, per-group rewards. */
export function formatRunSummary(
  summary: RunSummary,
  options: { stream: boolean; summaryPath: string },
): string {
  const percent = (share: number) => `${(share * 100).toFixed(1)}%`
  const failed = summary.rollouts - summary.succeeded
  const kinds = Object.entries(summary.failedByKind)
    .map(([kind, count]) => `${count} ${kind}`)
    .join(', ')
  const lines = [
    `rollouts: ${summary.rollouts} (${summary.succeeded} succeeded, ${failed} failed${kinds ? `: ${kinds}` : ''}) · success rate ${percent(summary.successRate)} · ${summary.retriedRollouts} needed a retry`,
    `model calls: ${summary.records} records, ${summary.verifiedRecords} verified (${percent(summary.verifiedShare)}) · ${summary.modelCalls.nonStreamed} non-streaming, ${summary.modelCalls.streamed} streamed`,
    `tokens: ${summary.completionTokens.toLocaleString('en-US')} generated · ${summary.tokensTrainedOn === null ? 'no rows written' : `${summary.tokensTrainedOn.toLocaleString('en-US')} trained on (loss mask 1)`}`,
    `reward: mean ${formatReward(summary.rewardMean)}`,
    requestMode(summary, options.stream),
  ]
  if (summary.leftOut.length > 0) {
    lines.push(
      `left out: ${summary.leftOut.length} rollouts have no row (named on stderr and in leftOut of ${options.summaryPath})`,
    )
  }
  lines.push('groups (task: rollouts, reward mean ± std):')
  for (const group of summary.groups.slice(0, GROUPS_SHOWN)) {
    const spread = group.rewardStd === null ? '' : ` ± ${group.rewardStd.toFixed(3)}`
    lines.push(`  ${String(group.taskId)}: ${group.rollouts}, ${formatReward(group.rewardMean)}${spread}`)
  }
  if (summary.groups.length > GROUPS_SHOWN) {
    lines.push(`  … ${summary.groups.length - GROUPS_SHOWN} more groups in ${options.summaryPath}`)
  }
  return `${lines.join('\n')}\n`
}

/** Which request mode ran, and the calls that went the other way (a rollout function choosing for itself). */
function requestMode(summary: RunSummary, stream: boolean): string {
  const mode = stream ? 'mode: streaming (--stream)' : 'mode: non-streaming (the default; --stream streams)'
  const otherWay = stream ? summary.modelCalls.nonStreamed : summary.modelCalls.streamed
  if (otherWay === 0) return mode
  return `${mode}; ${otherWay} model calls were ${stream ? 'not streamed' : 'streamed'}: the rollout function chose so itself`
}

function formatReward(value: number | null): string {
  return value === null ? '–' : value.toFixed(3)
}
