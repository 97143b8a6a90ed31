import { OptionReader } from '@vllm-tito/spec'
import { checkRollouts, type Rollout, type RolloutFailure } from './rollout'
import { type InexactHandling, selectSequences } from './sequence-rows'

/** What a triplet adds under `metadata.vllm_tito`: which rollout and call it comes from. */
export interface AgentLightningTripletInfo {
  /** The rollout's `rolloutId` (Agent Lightning's `rollout_id`). */
  rollout_id: string | number
  /** The rollout's `taskId` (Agent Lightning's `data_id`). */
  task_id: string | number
  /** The rollout's `sampleIndex`. */
  sample_index: number
  /** Position of the call in the rollout (the record's place in call order). */
  turn_index: number
  /** `index` of the sequence the call belongs to. */
  sequence_index: number
  /** Agent Lightning's rollout state: `failed` when the rollout failed, `succeeded` otherwise. */
  rollout_status: 'succeeded' | 'failed'
  /** The rollout's failure, when it failed. */
  failure: RolloutFailure | null
}

/**
 * An Agent Lightning 1.0 `Triplet` (`agentlightning/verl/agl_rollout_manager.py`), one per model call:
 * `prompt.token_ids` everything the call saw, `response.token_ids` what it sampled, `response.log_probs` the
 * call's logprobs or `null` (the key is always there: the verl bridge in `rollout_adapter.py` indexes it), and
 * `reward` on the rollout's last triplet only (`null` on the others), as Agent Lightning itself places it.
 */
export interface AgentLightningTriplet {
  /** `token_ids`: every id the call saw. */
  prompt: { token_ids: number[] }
  /** `token_ids`: the ids the call sampled; `log_probs`: one natural-log probability per id, or `null`. */
  response: { token_ids: number[]; log_probs: number[] | null }
  /** The rollout's reward on its last triplet; `null` on the others. */
  reward: number | null
  /** Where the triplet comes from, under `vllm_tito`. */
  metadata: { vllm_tito: AgentLightningTripletInfo }
}

/** Options of {@link toAgentLightningTriplets}. */
export interface AgentLightningExportOptions {
  /** Inexact sequences (flagged unverified turns, lossy merges). Default `throw`. */
  inexact?: InexactHandling
}

/**
 * Agent Lightning triplets of every rollout, in call order. Calls with an empty response are left out, as
 * Agent Lightning leaves them out, so the reward lands on a triplet it keeps; a rollout without calls gives
 * none (Agent Lightning skips such rollouts). A triplet's prompt is the sequence up to the call's response:
 * exactly the call's prompt for exact sequences; for a lossy-merged call (`inexact: 'include'`) the merged
 * history, not what the call saw.
 *
 * @throws InvalidOptionError (from spec) on a bad option or rollout field.
 * @throws InexactSequenceError on an inexact sequence under `inexact: 'throw'`.
 */
export function toAgentLightningTriplets(
  rollouts: readonly Rollout[],
  options: AgentLightningExportOptions = {},
): AgentLightningTriplet[] {
  const read = new OptionReader('toAgentLightningTriplets', options).rejectUnknown(['inexact'])
  const inexact = read.oneOf('inexact', ['throw', 'skip', 'include']) ?? 'throw'
  const checked = checkRollouts('agent-lightning', 'toAgentLightningTriplets', rollouts)
  const triplets: AgentLightningTriplet[] = []
  for (const rollout of checked) {
    const rolloutTriplets: AgentLightningTriplet[] = []
    for (const sequence of selectSequences(rollout, inexact)) {
      for (const turn of sequence.turns) {
        if (turn.responseEnd === turn.responseStart) continue
        const logprobs = sequence.logprobs.slice(turn.responseStart, turn.responseEnd)
        rolloutTriplets.push({
          prompt: { token_ids: sequence.tokenIds.slice(0, turn.responseStart) },
          response: {
            token_ids: sequence.tokenIds.slice(turn.responseStart, turn.responseEnd),
            log_probs: logprobs.every((logprob) => logprob !== null) ? (logprobs as number[]) : null,
          },
          reward: null,
          metadata: {
            vllm_tito: {
              rollout_id: rollout.rolloutId,
              task_id: rollout.taskId,
              sample_index: rollout.sampleIndex,
              turn_index: turn.turnIndex,
              sequence_index: sequence.index,
              rollout_status: rollout.failure === null ? 'succeeded' : 'failed',
              failure: rollout.failure,
            },
          },
        })
      }
    }
    const last = rolloutTriplets.at(-1)
    if (last) last.reward = rollout.reward
    triplets.push(...rolloutTriplets)
  }
  return triplets
}
