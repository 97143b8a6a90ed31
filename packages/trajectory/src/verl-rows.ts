import { OptionReader } from '@vllm-tito/spec'
import { TrainerRowError } from './errors'
import { type CheckedRollout, checkRollouts, type Rollout, type RolloutFailure } from './rollout'
import {
  applyLogprobRule,
  callSeconds,
  emptyResponsePart,
  gapSeconds,
  type InexactHandling,
  type MixedLogprobsHandling,
  type ResponsePart,
  responsePart,
  type SequenceStatus,
  selectSequences,
  sequenceStatus,
} from './sequence-rows'
import type { TrainingSequence } from './trajectory-types'

/**
 * verl's `AgentLoopMetrics` (`verl/experimental/agent_loop/agent_loop.py`), required on every
 * `AgentLoopOutput`. Units: seconds.
 */
export interface VerlAgentLoopMetrics {
  /** Seconds inside the model calls of the row (each record's `timing`, sent to finished). */
  generate_sequences: number
  /** Seconds between the row's calls: tool execution and agent code between one call and the next. */
  tool_calls: number
  /** `0.0`: verl measures its own scoring and overwrites this. */
  compute_score: number
  /** `-1`, verl's "not available" (vLLM's OpenAI server does not report preemptions). */
  num_preempted: number
}

/** What a verl row adds under `extra_fields.vllm_tito`: where it comes from (verl keeps it per sample). */
export interface VerlRowInfo {
  /** The rollout's `taskId`. */
  task_id: string | number
  /** The rollout's `sampleIndex`. */
  sample_index: number
  /** The rollout's `rolloutId`. */
  rollout_id: string | number
  /** `index` of the exported sequence in the trajectory, or `null` for an empty-response row. */
  sequence_index: number | null
  /** How many sequences the rollout's trajectory has (more than 1: it split at a prefix break). */
  sequences_in_rollout: number
  /** How the row ended (see `SequenceStatus`). */
  status: SequenceStatus
  /** The rollout's failure, when it failed. */
  failure: RolloutFailure | null
  /** Prefix breaks found in the rollout. */
  prefix_breaks: number
  /** Tokens cut to fit `maxPromptLength` / `maxResponseLength`, or `null` when nothing was cut. */
  truncated: { prompt_tokens_dropped: number; response_tokens_dropped: number } | null
}

/**
 * A verl `AgentLoopOutput` (`verl/experimental/agent_loop/agent_loop.py`), as `AgentLoopOutput(**row)`
 * takes it: `prompt_ids` the first turn's prompt; `response_ids` everything after it (responses, tool
 * results, user turns); `response_mask` 1 on model tokens, 0 on the rest; `response_logprobs` aligned with
 * `response_ids`, `0.0` on mask-0 tokens, or `null` for the whole batch when a model token has none;
 * `reward_score` the rollout's reward (verl writes it on the last response token; `null`: verl scores it).
 */
export interface VerlRow {
  /** The first call's prompt ids (or the rollout's `promptTokenIds` for an empty-response row). */
  prompt_ids: number[]
  /** Every id after the prompt: the model's responses and the tool results and user turns between them. */
  response_ids: number[]
  /** One entry per response id: 1 on model tokens, 0 on the rest. */
  response_mask: Array<0 | 1>
  /** One natural-log probability per response id, `0.0` on mask-0 tokens; `null` for the whole batch when a model token has none. */
  response_logprobs: number[] | null
  /** The rollout's reward, or `null` to let verl score the sample (all rows of a batch alike). */
  reward_score: number | null
  /** Chat turns, counted as verl's `ToolAgentLoop` does: the first prompt, each model call, each block of tool results or user turns between calls. */
  num_turns: number
  /** verl's required performance metrics, from the records' timing. */
  metrics: VerlAgentLoopMetrics
  /** Per-sample extras verl keeps as batch columns; ours under `vllm_tito`. */
  extra_fields: { vllm_tito: VerlRowInfo }
}

/** A rollout split at a prefix break, in verl (one `AgentLoopOutput` per sample): refuse, or keep its last sequence. */
export type VerlSplitRolloutHandling = 'throw' | 'last-sequence'

/** Options of {@link toVerlRows}. */
export interface VerlExportOptions {
  /** Inexact sequences (flagged unverified turns, lossy merges). Default `throw`. */
  inexact?: InexactHandling
  /** Some rows with logprobs and others without. Default `drop`. */
  mixedLogprobs?: MixedLogprobsHandling
  /**
   * A rollout with several sequences: `throw` (default, {@link TrainerRowError} `single-sequence`) or
   * `last-sequence` (the one that ends the rollout; the row's `extra_fields` say which and how many).
   */
  splitRollout?: VerlSplitRolloutHandling
  /** verl's `rollout.prompt_length`: a longer prompt keeps its last tokens, as verl itself does; marked. */
  maxPromptLength?: number
  /** verl's `rollout.response_length`: a longer response keeps its first tokens, with mask and logprobs; marked. */
  maxResponseLength?: number
}

const OPTION_NAMES = ['inexact', 'mixedLogprobs', 'splitRollout', 'maxPromptLength', 'maxResponseLength']

/**
 * One verl `AgentLoopOutput` per rollout, in the rollouts' order. verl runs one agent loop per sample and pads
 * (never truncates) to its budgets, so rows are cut here when budgets are given; logprobs and rewards are
 * all-or-none per batch.
 *
 * @throws InvalidOptionError (from spec) on a bad option or rollout field.
 * @throws TrainerRowError when the batch breaks one of verl's rules (see its `rule`).
 * @throws InexactSequenceError on an inexact sequence under `inexact: 'throw'`.
 */
export function toVerlRows(rollouts: readonly Rollout[], options: VerlExportOptions = {}): VerlRow[] {
  const read = new OptionReader('toVerlRows', options).rejectUnknown(OPTION_NAMES)
  const inexact = read.oneOf('inexact', ['throw', 'skip', 'include']) ?? 'throw'
  const mixedLogprobs = read.oneOf('mixedLogprobs', ['drop', 'throw']) ?? 'drop'
  const splitRollout = read.oneOf('splitRollout', ['throw', 'last-sequence']) ?? 'throw'
  const maxPromptLength = read.integer('maxPromptLength', { minimum: 1 })
  const maxResponseLength = read.integer('maxResponseLength', { minimum: 1 })
  const checked = checkRollouts('verl', 'toVerlRows', rollouts)

  const rows = checked.map((rollout) => {
    const sequence = pickSequence(rollout, selectSequences(rollout, inexact), splitRollout)
    const part = sequence ? responsePart(sequence) : emptyResponsePart(rollout.promptTokenIds!)
    const truncated = truncate(part, maxPromptLength, maxResponseLength)
    return { rollout, sequence, part, truncated, rolloutIndex: rollout.position }
  })
  applyLogprobRule('verl', rows, mixedLogprobs)
  rejectMixedRewards(checked)
  return rows.map(({ rollout, sequence, part, truncated }) => ({
    prompt_ids: part.promptIds,
    response_ids: part.responseIds,
    response_mask: part.lossMask,
    response_logprobs: part.logprobs,
    reward_score: rollout.reward,
    num_turns: countTurns(sequence),
    metrics: {
      generate_sequences: sequence ? callSeconds(sequence.turns) : 0,
      tool_calls: sequence ? gapSeconds(sequence.turns) : 0,
      compute_score: 0,
      num_preempted: -1,
    },
    extra_fields: {
      vllm_tito: {
        task_id: rollout.taskId,
        sample_index: rollout.sampleIndex,
        rollout_id: rollout.rolloutId,
        sequence_index: sequence ? sequence.index : null,
        sequences_in_rollout: rollout.sequences.length,
        status: sequenceStatus(sequence, rollout.failure),
        failure: rollout.failure,
        prefix_breaks: rollout.breakCount,
        truncated,
      },
    },
  }))
}

/** The one sequence a rollout's row is made of, or `null` for an empty-response row (prompt ids given). */
function pickSequence(
  rollout: CheckedRollout,
  selected: readonly TrainingSequence[],
  splitRollout: VerlSplitRolloutHandling,
): TrainingSequence | null {
  if (selected.length > 1 && splitRollout === 'throw') {
    throw new TrainerRowError(
      'verl',
      'single-sequence',
      rollout.position,
      `the rollout split into ${selected.length} sequences at prefix breaks, and verl takes one AgentLoopOutput per sample; pass splitRollout: 'last-sequence', or build the trajectory with onBreak: 'merge-lossy'`,
    )
  }
  const last = selected.at(-1)
  if (last !== undefined) return last
  if (rollout.promptTokenIds === null) {
    throw new TrainerRowError(
      'verl',
      'row-required',
      rollout.position,
      `the rollout has no sequence to export (${rollout.failure ? 'it failed before its first record' : 'no record was included'}), and verl needs one AgentLoopOutput per sample; give the rollout promptTokenIds (the task's prompt ids from /tokenize) for an empty-response row`,
    )
  }
  return null
}

/** Cuts `part` to the budgets in place, as verl's own loops do; returns what was cut, or `null`. */
function truncate(
  part: ResponsePart,
  maxPromptLength: number | undefined,
  maxResponseLength: number | undefined,
): VerlRowInfo['truncated'] {
  const promptDropped =
    maxPromptLength === undefined ? 0 : Math.max(0, part.promptIds.length - maxPromptLength)
  const responseDropped =
    maxResponseLength === undefined ? 0 : Math.max(0, part.responseIds.length - maxResponseLength)
  if (promptDropped === 0 && responseDropped === 0) return null
  // verl's _cap_text_prompt_length keeps a prompt's last tokens; ToolAgentLoop keeps a response's first ones
  part.promptIds = part.promptIds.slice(promptDropped)
  if (responseDropped > 0) {
    const keep = part.responseIds.length - responseDropped
    part.responseIds = part.responseIds.slice(0, keep)
    part.lossMask = part.lossMask.slice(0, keep)
    part.logprobs = part.logprobs === null ? null : part.logprobs.slice(0, keep)
  }
  return { prompt_tokens_dropped: promptDropped, response_tokens_dropped: responseDropped }
}

/** verl writes `rm_scores` only when every row of the batch has a reward (else it scores them itself). */
function rejectMixedRewards(rollouts: readonly CheckedRollout[]): void {
  const scored = rollouts.filter((rollout) => rollout.reward !== null)
  const unscored = rollouts.find((rollout) => rollout.reward === null)
  if (scored.length > 0 && unscored !== undefined) {
    throw new TrainerRowError(
      'verl',
      'rewards-all-or-none',
      unscored.position,
      `the reward is null while ${scored.length} other rollout(s) have one; verl uses the rows' rewards only when every row of the batch has one (give every rollout a reward, or none to let verl score them)`,
    )
  }
}

/** verl `ToolAgentLoop`'s count: the first prompt, every call, every non-empty block added between calls. */
function countTurns(sequence: TrainingSequence | null): number {
  if (sequence === null) return 1
  let turns = 1 + sequence.turns.length
  for (const turn of sequence.turns.slice(1)) if (turn.responseStart > turn.promptStart) turns += 1
  return turns
}
