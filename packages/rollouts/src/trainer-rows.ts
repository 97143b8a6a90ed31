import { InvalidOptionError } from '@vllm-tito/spec'
import {
  type AgentLightningExportOptions,
  type AgentLightningTriplet,
  buildTrajectory,
  InexactSequenceError,
  QWEN3_SPECIAL_TOKEN_IDS,
  type Rollout,
  type SkyRLExportOptions,
  type SkyRLGeneratorOutput,
  type SlimeExportOptions,
  type SlimeSample,
  TrainerRowError,
  type TrainerRule,
  type TrajectoryOptions,
  toAgentLightningTriplets,
  toSkyRLGeneratorOutput,
  toSlimeSamples,
  toVerlRows,
  type VerlExportOptions,
  type VerlRow,
} from '@vllm-tito/trajectory'
import type { RolloutResult } from './rollout-types'

/** The trainers whose rows the runner writes. */
export type TrainerFormat = 'verl' | 'skyrl' | 'slime' | 'agent-lightning'

/** Every {@link TrainerFormat}, in the order the CLI lists them. */
export const TRAINER_FORMATS: readonly TrainerFormat[] = ['verl', 'skyrl', 'slime', 'agent-lightning']

/** The rows of one format: an array of rows for verl, slime and Agent Lightning; one column object for SkyRL. */
export type FormatRows =
  | { format: 'verl'; rows: VerlRow[] }
  | { format: 'skyrl'; rows: SkyRLGeneratorOutput }
  | { format: 'slime'; rows: SlimeSample[] }
  | { format: 'agent-lightning'; rows: AgentLightningTriplet[] }

/** The rows of one format and the rollouts they leave out. */
export type TrainerRows = FormatRows & {
  /** The rollouts that have no row, in the results' order; empty when every rollout the trainer needs has one. */
  leftOut: LeftOutRollout[]
}

/**
 * A rollout the rows leave out because the trainer's rule for its row cannot be met — typically a rollout that
 * failed before its first model call and whose prompt ids could not be found. It stays in the results (and the
 * CLI's journal) with everything it captured.
 */
export interface LeftOutRollout {
  /** The rollout's task id. */
  taskId: string | number
  /** The rollout's position in its group. */
  sampleIndex: number
  /** The rollout's id. */
  rolloutId: string | number
  /** `taskIndex * groupSize + sampleIndex`. */
  rolloutNumber: number
  /** The trainer rule it breaks (`TrainerRowError.rule`), or `exact-sequence` for an inexact sequence. */
  rule: TrainerRule | 'exact-sequence'
  /** Why it has no row, naming what would give it one. */
  reason: string
  /** The rollout's own failure message, or `null` for a rollout that succeeded. */
  failure: string | null
}

/**
 * Which ids reach the trainer: `given` writes each result's `taskId` and `rolloutId` as they are;
 * `positions` writes `taskIndex` and `rolloutNumber` — integers, as slime's `group_index` and `index` must be.
 */
export type TrainerIds = 'given' | 'positions'

/** Options of {@link toTrainerRows}. */
export interface TrainerRowsOptions {
  /** The trainer. */
  format: TrainerFormat
  /** How each rollout's records become sequences (`buildTrajectory` options: special-token ids, tokenizer, …). */
  trajectory?: TrajectoryOptions
  /** The trainer export's own options (`toVerlRows`, `toSkyRLGeneratorOutput`, … of `@vllm-tito/trajectory`). */
  exportOptions?: VerlExportOptions | SkyRLExportOptions | SlimeExportOptions | AgentLightningExportOptions
  /** Which ids the rows carry. Default `given`. */
  ids?: TrainerIds
}

/**
 * The trajectory options for a model: Qwen2.5/Qwen3's special-token ids for a Qwen model (they only sharpen the
 * class of a prefix break in the rows' metadata), none otherwise — another family's ids would misclassify.
 */
export function trajectoryOptionsFor(modelId: string): TrajectoryOptions {
  return /qwen/i.test(modelId) ? { specialTokenIds: QWEN3_SPECIAL_TOKEN_IDS } : {}
}

/** The trajectory `Rollout` of a result: its records built into sequences, its ids, reward and failure. */
export function toTrainerRollout(
  result: RolloutResult,
  ids: TrainerIds = 'given',
  trajectory: TrajectoryOptions = {},
): Rollout {
  return {
    taskId: ids === 'positions' ? result.taskIndex : result.taskId,
    sampleIndex: result.sampleIndex,
    rolloutId: ids === 'positions' ? result.rolloutNumber : result.rolloutId,
    trajectory: buildTrajectory(result.records, trajectory),
    reward: result.reward,
    failure:
      result.failure === null ? null : { source: result.failure.source, message: result.failure.message },
    promptTokenIds: result.promptTokenIds,
  }
}

/**
 * The results as one trainer's rows, in the results' order (the trainer's batch order: sort first). A rollout
 * whose row cannot be built (no record and no prompt ids, or any other rule of the trainer that one rollout
 * breaks) is left out and listed in `leftOut`; the others are exported as if it were not there.
 *
 * @throws InvalidOptionError naming a bad option; the trajectory package's `TrainerRowError` when the batch as
 *   a whole breaks one of the trainer's rules (e.g. slime's integer ids with `ids: 'given'` and string ids).
 */
export function toTrainerRows(results: readonly RolloutResult[], options: TrainerRowsOptions): TrainerRows {
  const { format, trajectory, exportOptions, ids } = options
  if (!TRAINER_FORMATS.includes(format)) {
    throw new InvalidOptionError(
      'toTrainerRows',
      'format',
      `option \`format\` must be one of ${TRAINER_FORMATS.map((name) => `'${name}'`).join(', ')}, got ${JSON.stringify(format)}`,
      TRAINER_FORMATS,
    )
  }
  const rollouts = results.map((result) => toTrainerRollout(result, ids ?? 'given', trajectory))
  const leftOut = new Map<number, LeftOutRollout>()
  // a rollout with nothing to build a row from is known before the export; agent-lightning just skips it
  for (const [index, rollout] of rollouts.entries()) {
    if (format === 'agent-lightning') break
    if (rollout.trajectory.sequences.length > 0 || rollout.promptTokenIds !== null) continue
    const problem = results[index]!.promptTokenIdsProblem ?? 'none were found'
    leftOut.set(
      index,
      leftOutEntry(
        results[index]!,
        'row-required',
        `no record to build a row from, and no prompt ids for an empty-response row: ${problem}`,
      ),
    )
  }
  for (;;) {
    const kept = rollouts.flatMap((rollout, index) => (leftOut.has(index) ? [] : [{ rollout, index }]))
    if (kept.length === 0 && leftOut.size > 0 && format === 'skyrl') {
      const [first] = leftOut.values()
      throw new TrainerRowError(
        'skyrl',
        'row-required',
        null,
        `every rollout (${leftOut.size}) was left out, and SkyRL rejects an empty GeneratorOutput; the first, ${JSON.stringify(first!.rolloutId)}: ${first!.reason}`,
      )
    }
    try {
      const built = exportRows(
        format,
        kept.map((entry) => entry.rollout),
        withoutLeftOut(format, exportOptions, rollouts, leftOut),
      )
      return { ...built, leftOut: [...leftOut.entries()].sort(([a], [b]) => a - b).map(([, entry]) => entry) }
    } catch (error) {
      const position = rolloutPositionOf(error)
      if (position === undefined || kept[position] === undefined) throw error
      const rule = TrainerRowError.isInstance(error) ? error.rule : 'exact-sequence'
      // the export names the rollout by its position in the kept batch, which is not the caller's
      const reason = (error as Error).message.replace(/\brollout \d+: /, '')
      leftOut.set(kept[position].index, leftOutEntry(results[kept[position].index]!, rule, reason))
    }
  }
}

function exportRows(
  format: TrainerFormat,
  rollouts: Rollout[],
  exportOptions: TrainerRowsOptions['exportOptions'],
): FormatRows {
  switch (format) {
    case 'verl':
      return { format, rows: toVerlRows(rollouts, exportOptions as VerlExportOptions) }
    case 'skyrl':
      return { format, rows: toSkyRLGeneratorOutput(rollouts, exportOptions as SkyRLExportOptions) }
    case 'slime':
      return { format, rows: toSlimeSamples(rollouts, exportOptions as SlimeExportOptions) }
    case 'agent-lightning':
      return {
        format,
        rows: toAgentLightningTriplets(rollouts, exportOptions as AgentLightningExportOptions),
      }
  }
}

/** SkyRL's `inputTrajectoryIds` without the left-out rollouts, so the kept ones still match them one to one. */
function withoutLeftOut(
  format: TrainerFormat,
  exportOptions: TrainerRowsOptions['exportOptions'],
  rollouts: readonly Rollout[],
  leftOut: ReadonlyMap<number, LeftOutRollout>,
): TrainerRowsOptions['exportOptions'] {
  const inputIds = (exportOptions as SkyRLExportOptions | undefined)?.inputTrajectoryIds
  if (format !== 'skyrl' || leftOut.size === 0 || !Array.isArray(inputIds)) return exportOptions
  const gone = new Set(
    [...leftOut.keys()].map((index) => trajectoryKey(rollouts[index]!.taskId, rollouts[index]!.sampleIndex)),
  )
  return {
    ...exportOptions,
    inputTrajectoryIds: inputIds.filter((id) => !gone.has(trajectoryKey(id?.instance_id, id?.repetition_id))),
  }
}

function trajectoryKey(instanceId: unknown, repetitionId: unknown): string {
  return JSON.stringify([String(instanceId), repetitionId])
}

/**
 * The rules one rollout breaks on its own (its row cannot be built as the trainer needs it), so it is left out;
 * the others (ids, the input batch's order, rewards or logprobs across the batch) are the batch's and throw.
 */
const ROLLOUT_RULES: ReadonlySet<TrainerRule> = new Set([
  'row-required',
  'single-sequence',
  'reward-required',
])

/** The batch position of the one rollout an export error leaves out, or `undefined` when the error stands. */
function rolloutPositionOf(error: unknown): number | undefined {
  if (TrainerRowError.isInstance(error)) {
    return ROLLOUT_RULES.has(error.rule) ? (error.rolloutIndex ?? undefined) : undefined
  }
  if (InexactSequenceError.isInstance(error)) return error.rolloutIndex
  return undefined
}

function leftOutEntry(result: RolloutResult, rule: LeftOutRollout['rule'], reason: string): LeftOutRollout {
  return {
    taskId: result.taskId,
    sampleIndex: result.sampleIndex,
    rolloutId: result.rolloutId,
    rolloutNumber: result.rolloutNumber,
    rule,
    reason,
    failure: result.failure?.message ?? null,
  }
}

/** Tokens the trainer trains on (loss mask 1) in the rows. */
export function tokensTrainedOn(trainerRows: TrainerRows): number {
  const ones = (mask: readonly number[] | null | undefined) => (mask ?? []).reduce((sum, bit) => sum + bit, 0)
  switch (trainerRows.format) {
    case 'verl':
      return trainerRows.rows.reduce((sum, row) => sum + ones(row.response_mask), 0)
    case 'skyrl':
      return trainerRows.rows.loss_masks.reduce((sum, mask) => sum + ones(mask), 0)
    case 'slime':
      return trainerRows.rows.reduce((sum, sample) => sum + ones(sample.loss_mask), 0)
    case 'agent-lightning':
      return trainerRows.rows.reduce((sum, triplet) => sum + triplet.response.token_ids.length, 0)
  }
}

/** The rows as file text: JSONL (one row a line) for verl, slime and Agent Lightning; one JSON object for SkyRL. */
export function formatTrainerRows(trainerRows: TrainerRows): string {
  if (trainerRows.format === 'skyrl') return `${JSON.stringify(trainerRows.rows)}\n`
  return trainerRows.rows.map((row) => `${JSON.stringify(row)}\n`).join('')
}
