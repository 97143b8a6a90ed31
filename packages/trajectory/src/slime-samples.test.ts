import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type MockRollouts, mergedRow, runMockRollouts, TASK_ID } from './__fixtures__/mock-rollouts'
import { catchError, recordOf } from './__fixtures__/records'
import { type SlimeSample, toSlimeSamples } from './slime-samples'
import { buildTrajectory } from './trajectory-builder'

let rollouts: MockRollouts
beforeAll(async () => {
  rollouts = await runMockRollouts()
})
afterAll(async () => {
  await rollouts.close()
})

/** slime's own checks (slime/utils/types.py, slime/ray/rollout.py): mask and logprobs cover response_length. */
function expectSlimeInvariants(sample: SlimeSample): void {
  expect(sample.response_length).toBeLessThanOrEqual(sample.tokens.length)
  expect(sample.loss_mask).toHaveLength(sample.response_length)
  if (sample.rollout_log_probs !== null) {
    expect(sample.rollout_log_probs).toHaveLength(sample.response_length)
    sample.loss_mask.forEach((mask, index) => {
      if (mask === 0) expect(sample.rollout_log_probs![index]).toBe(0)
    })
  }
}

describe('toSlimeSamples from mock-vllm rollouts', () => {
  it('an exact rollout is one Sample: whole sequence in tokens, mask over the response only, its ids', () => {
    const [first, second] = rollouts.records.exact
    const expected = mergedRow(first!, second!)
    const samples = toSlimeSamples([rollouts.exact])
    samples.forEach(expectSlimeInvariants)
    expect(samples).toEqual([
      {
        group_index: TASK_ID,
        index: 100,
        rollout_id: 100,
        tokens: [...second!.promptTokenIds!, ...second!.tokenIds!],
        response_length: expected.response.length,
        loss_mask: expected.mask,
        rollout_log_probs: expected.logprobs,
        reward: 1,
        status: 'completed',
        metadata: {
          vllm_tito: {
            task_id: TASK_ID,
            sample_index: 0,
            sequence_index: 0,
            sequences_in_rollout: 1,
            prefix_breaks: 0,
            failure: null,
          },
        },
      },
    ])
    expect(samples[0]!.tokens.slice(-expected.response.length)).toEqual(expected.response)
  })

  it('a split rollout gives one Sample per sequence sharing rollout_id; the reward is repeated by default', () => {
    const [first, second] = rollouts.records.split
    const samples = toSlimeSamples([rollouts.split])
    samples.forEach(expectSlimeInvariants)
    expect(
      samples.map((sample) => [sample.index, sample.rollout_id, sample.group_index, sample.reward]),
    ).toEqual([
      [101, 101, TASK_ID, 1],
      [101, 101, TASK_ID, 1],
    ])
    expect(samples.map((sample) => sample.tokens)).toEqual([
      [...first!.promptTokenIds!, ...first!.tokenIds!],
      [...second!.promptTokenIds!, ...second!.tokenIds!],
    ])
    expect(samples.map((sample) => sample.response_length)).toEqual([
      first!.tokenIds!.length,
      second!.tokenIds!.length,
    ])
    expect(
      toSlimeSamples([rollouts.split], { rewardPlacement: 'last-sequence' }).map((s) => s.reward),
    ).toEqual([0, 1])
    expect(toSlimeSamples([rollouts.split], { rewardPlacement: 'split' }).map((s) => s.reward)).toEqual([
      0.5, 0.5,
    ])
  })

  it('missing logprobs: null for every sample (slime checks the first sample only), or a typed error', () => {
    const samples = toSlimeSamples([rollouts.exact, rollouts.missingLogprobs])
    expect(samples.map((sample) => sample.rollout_log_probs)).toEqual([null, null])
    expect(
      catchError(() =>
        toSlimeSamples([rollouts.exact, rollouts.missingLogprobs], { mixedLogprobs: 'throw' }),
      ),
    ).toMatchObject({ trainer: 'slime', rule: 'logprobs-all-or-none', rolloutIndex: 1 })
  })

  it('failed rollouts are failed (not aborted, which slime would regenerate); one that failed at its start keeps its group complete', () => {
    const [midway, atStart] = toSlimeSamples([rollouts.failedMidway, rollouts.failedAtStart])
    expectSlimeInvariants(midway!)
    expectSlimeInvariants(atStart!)
    const first = rollouts.records.failedMidway[0]!
    expect(midway).toMatchObject({
      tokens: [...first.promptTokenIds!, ...first.tokenIds!],
      response_length: first.tokenIds!.length,
      status: 'failed',
      reward: 0,
    })
    expect(midway!.metadata.vllm_tito.failure).toEqual(rollouts.failedMidway.failure)
    expect(atStart).toMatchObject({
      index: 104,
      tokens: rollouts.failedAtStart.promptTokenIds,
      response_length: 0,
      loss_mask: [],
      rollout_log_probs: [],
      status: 'failed',
      reward: 0,
    })
  })

  it('the whole group keeps its samples next to each other, in order', () => {
    const group = [
      rollouts.exact,
      rollouts.split,
      rollouts.missingLogprobs,
      rollouts.failedMidway,
      rollouts.failedAtStart,
    ]
    const samples = toSlimeSamples(group)
    expect(
      samples.map((sample) => [sample.rollout_id, sample.metadata.vllm_tito.sample_index, sample.status]),
    ).toEqual([
      [100, 0, 'completed'],
      [101, 1, 'completed'],
      [101, 1, 'completed'],
      [102, 2, 'completed'],
      [103, 3, 'failed'],
      [104, 4, 'failed'],
    ])
  })

  it("slime's ids are integers: a string task or rollout id is refused", () => {
    const error = catchError(() => toSlimeSamples([{ ...rollouts.exact, rolloutId: 'rollout-100' }]))
    expect(error).toMatchObject({ trainer: 'slime', rule: 'integer-ids', rolloutIndex: 0 })
    expect((error as Error).message).toBe(
      `slime: rollout 0: rolloutId is "rollout-100"; slime's group_index, index and rollout_id are integers: pass the Sample's group_index as taskId and its index as rolloutId`,
    )
  })
})

describe('slime status from the last call', () => {
  it('length is truncated, abort is aborted, error is failed', () => {
    const statusOf = (finishReason: string) => {
      const trajectory = buildTrajectory([recordOf([1, 2], [3, 4], { finishReason })])
      return toSlimeSamples([{ taskId: 0, sampleIndex: 0, rolloutId: 0, trajectory, reward: 0 }])[0]!.status
    }
    expect(['stop', 'tool_calls', 'length', 'abort', 'error'].map(statusOf)).toEqual([
      'completed',
      'completed',
      'truncated',
      'aborted',
      'failed',
    ])
  })
})
