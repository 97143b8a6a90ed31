import { InexactSequenceError } from './errors'
import type { TrainingSequence } from './trajectory-builder'

/** What an export does with a sequence whose `exact` is `false`: throw (default), leave it out, or export it. */
export type InexactHandling = 'throw' | 'skip' | 'include'

/** Options shared by the trainer exports. */
export interface TrainerExportOptions {
  /** The reward to attach: one number for every row, or computed per sequence. Default `null`. */
  reward?: number | null | ((sequence: TrainingSequence) => number | null)
  /** Handling of inexact sequences (flagged unverified turns, lossy merges). Default `throw`. */
  inexact?: InexactHandling
}

/**
 * A verl `AgentLoopOutput` row (`verl/experimental/agent_loop/agent_loop.py`): `prompt_ids` is the first
 * turn's prompt; `response_ids` everything after it (responses, tool results and user turns);
 * `response_mask` 1 on model tokens, 0 on the rest; `response_logprobs` aligned with `response_ids`, with
 * `0.0` on mask-0 tokens as verl's `ToolAgentLoop` writes them, or `null` when any model token has no logprob
 * (never padded); `reward_score` the attached reward.
 */
export interface VerlRow {
  prompt_ids: number[]
  response_ids: number[]
  response_mask: Array<0 | 1>
  response_logprobs: number[] | null
  reward_score: number | null
}

/**
 * One sample of SkyRL's `GeneratorOutput` (`skyrl/train/generators/base.py`; the output holds these as
 * parallel lists): `prompt_token_ids`, `response_ids`, `loss_masks` (1 = model token), `rollout_logprobs`
 * (mask-0 tokens `0.0`, `null` when incomplete) and the sample's entry of `rewards`.
 */
export interface SkyRLRow {
  prompt_token_ids: number[]
  response_ids: number[]
  loss_masks: Array<0 | 1>
  rollout_logprobs: number[] | null
  rewards: number | null
}

/** slime's `Sample.Status` values (`slime/utils/types.py`), mapped from the last turn's finish reason. */
export type SlimeStatus = 'completed' | 'truncated' | 'aborted'

/**
 * A slime `Sample` (`slime/utils/types.py`): `tokens` the whole sequence, `response_length` the tokens after
 * the first prompt, `loss_mask` and `rollout_log_probs` covering only those `response_length` tokens
 * (mask-0 tokens `0.0`, `null` when incomplete), `reward`, and `status` (`truncated` when the last turn hit
 * `length`, `aborted` on `abort`/`error`).
 */
export interface SlimeSample {
  tokens: number[]
  response_length: number
  loss_mask: Array<0 | 1>
  rollout_log_probs: number[] | null
  reward: number | null
  status: SlimeStatus
}

/**
 * An Agent Lightning `Triplet` (v0.3.0 `agentlightning/types`; transition level, one per model call):
 * `prompt.token_ids` everything the call saw, `response.token_ids` what it sampled, `response.logprobs` when
 * every response token has one, and `reward` — on the rollout's final call only, `null` on the others, as
 * Agent Lightning assigns a final reward to the last LLM call.
 */
export interface AgentLightningTriplet {
  prompt: { token_ids: number[] }
  response: { token_ids: number[]; logprobs?: number[] }
  reward: number | null
}

/** verl rows, one per sequence. */
export function toVerlRows(
  sequences: readonly TrainingSequence[],
  options: TrainerExportOptions = {},
): VerlRow[] {
  return selectSequences(sequences, options.inexact).map((sequence) => {
    const response = responsePart(sequence)
    return {
      prompt_ids: sequence.tokenIds.slice(0, sequence.promptLength),
      response_ids: response.tokenIds,
      response_mask: response.lossMask,
      response_logprobs: response.logprobs,
      reward_score: resolveReward(options.reward, sequence),
    }
  })
}

/** SkyRL rows, one per sequence. */
export function toSkyRLRows(
  sequences: readonly TrainingSequence[],
  options: TrainerExportOptions = {},
): SkyRLRow[] {
  return selectSequences(sequences, options.inexact).map((sequence) => {
    const response = responsePart(sequence)
    return {
      prompt_token_ids: sequence.tokenIds.slice(0, sequence.promptLength),
      response_ids: response.tokenIds,
      loss_masks: response.lossMask,
      rollout_logprobs: response.logprobs,
      rewards: resolveReward(options.reward, sequence),
    }
  })
}

/** slime samples, one per sequence. */
export function toSlimeSamples(
  sequences: readonly TrainingSequence[],
  options: TrainerExportOptions = {},
): SlimeSample[] {
  return selectSequences(sequences, options.inexact).map((sequence) => {
    const response = responsePart(sequence)
    return {
      tokens: sequence.tokenIds.slice(),
      response_length: response.tokenIds.length,
      loss_mask: response.lossMask,
      rollout_log_probs: response.logprobs,
      reward: resolveReward(options.reward, sequence),
      status: slimeStatus(sequence),
    }
  })
}

/**
 * Agent Lightning triplets, one per turn of every exported sequence, in turn order. The reward (computed with
 * the last exported sequence) goes on the final triplet; the others get `null`. A triplet's prompt is the
 * sequence up to the turn's response: exactly the call's prompt for exact sequences; for a lossy-merged turn
 * (exported only with `inexact: 'include'`) it is the merged history, not what the call saw.
 */
export function toAgentLightningTriplets(
  sequences: readonly TrainingSequence[],
  options: TrainerExportOptions = {},
): AgentLightningTriplet[] {
  const selected = selectSequences(sequences, options.inexact)
  const triplets: AgentLightningTriplet[] = []
  for (const sequence of selected) {
    for (const turn of sequence.turns) {
      const logprobs = sequence.logprobs.slice(turn.responseStart, turn.responseEnd)
      const complete = logprobs.every((logprob) => logprob !== null)
      triplets.push({
        prompt: { token_ids: sequence.tokenIds.slice(0, turn.responseStart) },
        response: {
          token_ids: sequence.tokenIds.slice(turn.responseStart, turn.responseEnd),
          ...(complete ? { logprobs: logprobs as number[] } : {}),
        },
        reward: null,
      })
    }
  }
  const last = triplets.at(-1)
  const lastSequence = selected.at(-1)
  if (last && lastSequence) last.reward = resolveReward(options.reward, lastSequence)
  return triplets
}

/** Rows as JSON Lines: one `JSON.stringify`d row per line, each line ending in `\n`. */
export function toJsonl(rows: readonly unknown[]): string {
  let text = ''
  for (const row of rows) text += `${JSON.stringify(row)}\n`
  return text
}

function selectSequences(
  sequences: readonly TrainingSequence[],
  inexact: InexactHandling = 'throw',
): TrainingSequence[] {
  const selected: TrainingSequence[] = []
  for (const sequence of sequences) {
    if (!sequence.exact) {
      if (inexact === 'throw') throw new InexactSequenceError(sequence.index, sequence.issues)
      if (inexact === 'skip') continue
    }
    selected.push(sequence)
  }
  return selected
}

function responsePart(sequence: TrainingSequence): {
  tokenIds: number[]
  lossMask: Array<0 | 1>
  logprobs: number[] | null
} {
  const start = sequence.promptLength
  const lossMask = sequence.lossMask.slice(start)
  let logprobs: number[] | null = null
  if (sequence.logprobsComplete) {
    // mask-0 tokens were not sampled: 0.0 there is the trainers' own convention and is never trained on
    logprobs = sequence.logprobs.slice(start).map((logprob) => logprob ?? 0)
  }
  return { tokenIds: sequence.tokenIds.slice(start), lossMask, logprobs }
}

function resolveReward(reward: TrainerExportOptions['reward'], sequence: TrainingSequence): number | null {
  if (typeof reward === 'function') return reward(sequence)
  return reward ?? null
}

function slimeStatus(sequence: TrainingSequence): SlimeStatus {
  const finishReason = sequence.turns.at(-1)?.finishReason
  if (finishReason === 'length') return 'truncated'
  if (finishReason === 'abort' || finishReason === 'error') return 'aborted'
  return 'completed'
}
