import { describe, expect, it } from 'vitest'
import { catchError, recordOf, unverified } from './__fixtures__/records'
import { InexactSequenceError } from './errors'
import { toAgentLightningTriplets, toJsonl, toSkyRLRows, toSlimeSamples, toVerlRows } from './trainer-exports'
import { buildTrajectory } from './trajectory-builder'

const prompt1 = [100, 1, 101, 100]
const response1 = [5, 101]
const prompt2 = [...prompt1, ...response1, 7, 100]
const response2 = [8, 101]
const records = [
  recordOf(prompt1, response1, { logprobs: [-0.1, -0.2] }),
  recordOf(prompt2, response2, { logprobs: [-0.3, -0.4], finishReason: 'length' }),
]
const { sequences } = buildTrajectory(records)
const responseIds = [5, 101, 7, 100, 8, 101]
const responseMask = [1, 1, 0, 0, 1, 1]
const responseLogprobs = [-0.1, -0.2, 0, 0, -0.3, -0.4]

describe('trainer exports', () => {
  it('verl AgentLoopOutput rows', () => {
    expect(toVerlRows(sequences, { reward: 1 })).toEqual([
      {
        prompt_ids: prompt1,
        response_ids: responseIds,
        response_mask: responseMask,
        response_logprobs: responseLogprobs,
        reward_score: 1,
      },
    ])
  })

  it('SkyRL rows with a computed reward', () => {
    expect(toSkyRLRows(sequences, { reward: (sequence) => sequence.turns.length / 4 })).toEqual([
      {
        prompt_token_ids: prompt1,
        response_ids: responseIds,
        loss_masks: responseMask,
        rollout_logprobs: responseLogprobs,
        rewards: 0.5,
      },
    ])
  })

  it('slime Sample with response-only mask and status from the last finish reason', () => {
    expect(toSlimeSamples(sequences)).toEqual([
      {
        tokens: [...prompt2, ...response2],
        response_length: 6,
        loss_mask: responseMask,
        rollout_log_probs: responseLogprobs,
        reward: null,
        status: 'truncated',
      },
    ])
  })

  it('Agent Lightning triplets per call, reward on the final one', () => {
    expect(toAgentLightningTriplets(sequences, { reward: 0.75 })).toEqual([
      {
        prompt: { token_ids: prompt1 },
        response: { token_ids: response1, logprobs: [-0.1, -0.2] },
        reward: null,
      },
      {
        prompt: { token_ids: prompt2 },
        response: { token_ids: response2, logprobs: [-0.3, -0.4] },
        reward: 0.75,
      },
    ])
  })

  it('never pads: logprobs are null (or left out of triplets) when a model token has none', () => {
    const partial = buildTrajectory([records[0]!, { ...records[1]!, logprobs: null }]).sequences
    expect(toVerlRows(partial)[0]!.response_logprobs).toBeNull()
    expect(toSlimeSamples(partial)[0]!.rollout_log_probs).toBeNull()
    expect(toAgentLightningTriplets(partial)[1]!.response).toEqual({ token_ids: response2 })
  })

  it('refuses inexact sequences unless told to skip or include them', () => {
    const flagged = buildTrajectory([records[0]!, unverified(records[1]!, 'unverifiable', 'no usage')], {
      unverified: 'flag',
    }).sequences
    const error = catchError(() => toVerlRows(flagged))
    expect(InexactSequenceError.isInstance(error)).toBe(true)
    expect((error as Error).message).toBe(
      "sequence 0 is not exact (turn 1: token ids not verified (unverifiable): no usage); pass inexact: 'skip' or 'include' to export anyway",
    )
    expect(toSkyRLRows(flagged, { inexact: 'skip' })).toEqual([])
    expect(toSlimeSamples(flagged, { inexact: 'include' })).toHaveLength(1)
    expect(() => toAgentLightningTriplets(flagged)).toThrowError(InexactSequenceError)
  })

  it('toJsonl writes one line per row', () => {
    expect(toJsonl([{ prompt_ids: [1], reward_score: null }, { a: 2 }])).toBe(
      '{"prompt_ids":[1],"reward_score":null}\n{"a":2}\n',
    )
    expect(toJsonl([])).toBe('')
  })
})
