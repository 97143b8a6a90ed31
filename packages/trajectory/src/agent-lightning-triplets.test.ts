import { InvalidOptionError } from '@vllm-tito/spec'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type MockRollouts, runMockRollouts, TASK_ID } from './__fixtures__/mock-rollouts'
import { catchError } from './__fixtures__/records'
import { toAgentLightningTriplets } from './agent-lightning-triplets'
import { toJsonl } from './to-jsonl'

let rollouts: MockRollouts
beforeAll(async () => {
  rollouts = await runMockRollouts()
})
afterAll(async () => {
  await rollouts.close()
})

describe('toAgentLightningTriplets from mock-vllm rollouts', () => {
  it('an exact rollout gives one triplet per call with the ids it saw and sampled; the reward on the last', () => {
    const [first, second] = rollouts.records.exact
    const triplets = toAgentLightningTriplets([rollouts.exact])
    expect(triplets).toEqual(
      [first!, second!].map((record, turnIndex) => ({
        prompt: { token_ids: record.promptTokenIds },
        response: { token_ids: record.tokenIds, log_probs: record.logprobs },
        reward: turnIndex === 1 ? 1 : null,
        metadata: {
          vllm_tito: {
            rollout_id: 100,
            task_id: TASK_ID,
            sample_index: 0,
            turn_index: turnIndex,
            sequence_index: 0,
            rollout_status: 'succeeded',
            failure: null,
          },
        },
      })),
    )
  })

  it('response.log_probs is always present, null where a call has none (the verl bridge indexes it)', () => {
    const triplets = toAgentLightningTriplets([rollouts.missingLogprobs])
    expect(triplets.map((triplet) => triplet.response.log_probs)).toEqual([
      rollouts.records.missingLogprobs[0]!.logprobs,
      null,
    ])
    const lines = toJsonl(triplets).trimEnd().split('\n')
    expect(lines.map((line) => Object.keys(JSON.parse(line).response))).toEqual([
      ['token_ids', 'log_probs'],
      ['token_ids', 'log_probs'],
    ])
  })

  it('a split rollout still gives each call its own prompt exactly, one reward for the rollout', () => {
    const triplets = toAgentLightningTriplets([rollouts.split])
    expect(triplets.map((triplet) => triplet.prompt.token_ids)).toEqual(
      rollouts.records.split.map((record) => record.promptTokenIds),
    )
    expect(triplets.map((triplet) => triplet.metadata.vllm_tito.sequence_index)).toEqual([0, 1])
    expect(triplets.map((triplet) => triplet.reward)).toEqual([null, 1])
  })

  it('failed rollouts: the calls before the failure, marked failed; none for a rollout without calls', () => {
    const triplets = toAgentLightningTriplets([rollouts.failedMidway, rollouts.failedAtStart])
    expect(triplets).toHaveLength(1)
    expect(triplets[0]!.response.token_ids).toEqual(rollouts.records.failedMidway[0]!.tokenIds)
    expect(triplets[0]!.reward).toBe(0)
    expect(triplets[0]!.metadata.vllm_tito).toMatchObject({
      rollout_id: 103,
      rollout_status: 'failed',
      failure: rollouts.failedMidway.failure,
    })
  })

  it('the whole group: each rollout its own triplets and reward, in order', () => {
    const group = [
      rollouts.exact,
      rollouts.split,
      rollouts.missingLogprobs,
      rollouts.failedMidway,
      rollouts.failedAtStart,
    ]
    const triplets = toAgentLightningTriplets(group)
    expect(triplets.map((triplet) => [triplet.metadata.vllm_tito.rollout_id, triplet.reward])).toEqual([
      [100, null],
      [100, 1],
      [101, null],
      [101, 1],
      [102, null],
      [102, 0],
      [103, 0],
    ])
    const unknown = catchError(() => toAgentLightningTriplets(group, { inexcat: 'skip' } as never))
    expect(InvalidOptionError.isInstance(unknown)).toBe(true)
    expect((unknown as Error).message).toBe(
      'toAgentLightningTriplets: unknown option `inexcat` (did you mean `inexact`?); known options: inexact',
    )
  })
})
