import { InvalidOptionError } from '@vllm-tito/spec'
import {
  type AgentLightningExportOptions,
  type AgentLightningTriplet,
  buildTrajectory,
  QWEN3_SPECIAL_TOKEN_IDS,
  type Rollout,
  type SkyRLExportOptions,
  type SkyRLGeneratorOutput,
  type SlimeExportOptions,
  type SlimeSample,
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
export type TrainerRows =
  | { format: 'verl'; rows: VerlRow[] }
  | { format: 'skyrl'; rows: SkyRLGeneratorOutput }
  | { format: 'slime'; rows: SlimeSample[] }
  | { format: 'agent-lightning'; rows: AgentLightningTriplet[] }

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
 * The results as one trainer's rows, in the results' order (the trainer's batch order: sort first).
 *
 * @throws InvalidOptionError naming a bad option; the trajectory package's `TrainerRowError` when the batch
 *   breaks one of the trainer's rules (e.g. slime's integer ids with `ids: 'given'` and string ids).
 */
export function toTrainerRows(results: readonly RolloutResult[], options: TrainerRowsOptions): TrainerRows {
  const { format, trajectory, exportOptions, ids } = options
  const rollouts = results.map((result) => toTrainerRollout(result, ids ?? 'given', trajectory))
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
    default:
      throw new InvalidOptionError(
        'toTrainerRows',
        'format',
        `option \`format\` must be one of ${TRAINER_FORMATS.map((name) => `'${name}'`).join(', ')}, got ${JSON.stringify(format)}`,
        TRAINER_FORMATS,
      )
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
