import { InvalidOptionError } from '@vllm-tito/spec'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type MockRollouts, mergedRow, recordSeconds, runMockRollouts } from './__fixtures__/mock-rollouts'
import { catchError } from './__fixtures__/records'
import { type SkyRLGeneratorOutput, toSkyRLGeneratorOutput } from './skyrl-generator-output'

let rollouts: MockRollouts
beforeAll(async () => {
  rollouts = await runMockRollouts()
})
afterAll(async () => {
  await rollouts.close()
})

/** The keys SkyRL's own generator returns (skyrl/train/generators/skyrl_gym_generator.py, no vision inputs). */
const GENERATOR_OUTPUT_KEYS = [
  'env_metrics',
  'is_last_step',
  'loss_masks',
  'prompt_token_ids',
  'response_ids',
  'rewards',
  'rollout_expert_indices',
  'rollout_logprobs',
  'rollout_metrics',
  'stop_reasons',
  'trajectory_generation_times',
  'trajectory_ids',
  'trajectory_time_splits',
]

/** What validate_generator_output asserts, plus the non-empty response its reward placement needs. */
function expectSkyRLInvariants(output: SkyRLGeneratorOutput): void {
  expect(Object.keys(output).sort()).toEqual(GENERATOR_OUTPUT_KEYS)
  const rows = output.response_ids.length
  expect(rows).toBeGreaterThan(0)
  for (const column of [output.prompt_token_ids, output.loss_masks, output.rewards, output.stop_reasons]) {
    expect(column).toHaveLength(rows)
  }
  expect(output.trajectory_ids).toHaveLength(rows)
  output.response_ids.forEach((response, index) => {
    expect(response.length).toBeGreaterThan(0)
    expect(output.loss_masks[index]).toHaveLength(response.length)
    const reward = output.rewards[index]
    if (Array.isArray(reward)) expect(reward).toHaveLength(response.length)
    if (output.rollout_logprobs !== null) {
      expect(output.rollout_logprobs[index]).toHaveLength(response.length)
      output.loss_masks[index]!.forEach((mask, position) => {
        if (mask === 0) expect(output.rollout_logprobs![index]![position]).toBe(0)
      })
    }
  })
}

describe('toSkyRLGeneratorOutput from mock-vllm rollouts', () => {
  it('an exact rollout is one row of each column, in the shape SkyRL validates', () => {
    const [first, second] = rollouts.records.exact
    const expected = mergedRow(first!, second!)
    const output = toSkyRLGeneratorOutput([rollouts.exact])
    expectSkyRLInvariants(output)
    const seconds = recordSeconds(rollouts.records.exact)
    expect(output).toEqual({
      prompt_token_ids: [expected.prompt],
      response_ids: [expected.response],
      rewards: [1],
      loss_masks: [expected.mask],
      stop_reasons: ['stop'],
      rollout_metrics: {
        'vllm_tito/rollouts': 1,
        'vllm_tito/rows': 1,
        'vllm_tito/split_rollouts': 0,
        'vllm_tito/prefix_breaks': 0,
        'vllm_tito/failed_rollouts': 0,
        'vllm_tito/logprobs_dropped': 0,
      },
      rollout_logprobs: [expected.logprobs],
      trajectory_ids: [{ instance_id: '7', repetition_id: 0 }],
      is_last_step: null,
      trajectory_generation_times: [(second!.timing.endedAt - first!.timing.startedAt) / 1000],
      trajectory_time_splits: { llm: [seconds.calls], env: [seconds.between] },
      rollout_expert_indices: null,
      env_metrics: null,
    })
  })

  it('a split rollout needs step-wise mode: one row per sequence, is_last_step, reward on the last step', () => {
    const error = catchError(() => toSkyRLGeneratorOutput([rollouts.split]))
    expect(error).toMatchObject({ trainer: 'skyrl', rule: 'single-sequence', rolloutIndex: 0 })
    const output = toSkyRLGeneratorOutput([rollouts.exact, rollouts.split], { stepWise: true })
    expectSkyRLInvariants(output)
    const [first, second] = rollouts.records.split
    expect(output.prompt_token_ids).toEqual([
      rollouts.records.exact[0]!.promptTokenIds,
      first!.promptTokenIds,
      second!.promptTokenIds,
    ])
    expect(output.response_ids.slice(1)).toEqual([first!.tokenIds, second!.tokenIds])
    expect(output.is_last_step).toEqual([true, false, true])
    expect(output.trajectory_ids).toEqual([
      { instance_id: '7', repetition_id: 0 },
      { instance_id: '7', repetition_id: 1 },
      { instance_id: '7', repetition_id: 1 },
    ])
    // SkyRL takes a step-wise trajectory's advantage from its last step
    expect(output.rewards).toEqual([1, 0, 1])
    expect(output.stop_reasons).toEqual(['stop', 'stop', 'stop'])
    expect(output.rollout_metrics['vllm_tito/split_rollouts']).toBe(1)
    const repeated = toSkyRLGeneratorOutput([rollouts.split], { stepWise: true, rewardPlacement: 'repeat' })
    expect(repeated.rewards).toEqual([1, 1])
    const split = catchError(() =>
      toSkyRLGeneratorOutput([rollouts.split], { rewardPlacement: 'split' as never }),
    )
    expect(InvalidOptionError.isInstance(split)).toBe(true)
    expect(split).toMatchObject({ option: 'rewardPlacement', allowed: ['last-sequence', 'repeat'] })
  })

  it('per-token rewards: one list per row, the reward on the last response token', () => {
    const output = toSkyRLGeneratorOutput([rollouts.split], { stepWise: true, rewardShape: 'per-token' })
    expectSkyRLInvariants(output)
    const [first, second] = rollouts.records.split
    expect(output.rewards).toEqual([
      first!.tokenIds!.map(() => 0),
      second!.tokenIds!.map((_, index, ids) => (index === ids.length - 1 ? 1 : 0)),
    ])
  })

  it('missing logprobs: the whole column is null, or a typed error', () => {
    const output = toSkyRLGeneratorOutput([rollouts.exact, rollouts.missingLogprobs])
    expectSkyRLInvariants(output)
    expect(output.rollout_logprobs).toBeNull()
    expect(output.rollout_metrics['vllm_tito/logprobs_dropped']).toBe(1)
    expect(
      catchError(() =>
        toSkyRLGeneratorOutput([rollouts.exact, rollouts.missingLogprobs], { mixedLogprobs: 'throw' }),
      ),
    ).toMatchObject({ rule: 'logprobs-all-or-none', rolloutIndex: 1 })
  })

  it("failed rollouts: stop reason error; one that failed at its start needs a placeholder token for SkyRL's reward", () => {
    const midway = toSkyRLGeneratorOutput([rollouts.failedMidway])
    expectSkyRLInvariants(midway)
    expect(midway.stop_reasons).toEqual(['error'])
    expect(midway.response_ids).toEqual([rollouts.records.failedMidway[0]!.tokenIds])
    expect(midway.rollout_metrics['vllm_tito/failed_rollouts']).toBe(1)
    expect(catchError(() => toSkyRLGeneratorOutput([rollouts.failedAtStart]))).toMatchObject({
      rule: 'row-required',
      rolloutIndex: 0,
    })
    const output = toSkyRLGeneratorOutput([rollouts.exact, rollouts.failedAtStart], {
      emptyResponseTokenId: 151645,
    })
    expectSkyRLInvariants(output)
    expect(output.prompt_token_ids[1]).toEqual(rollouts.failedAtStart.promptTokenIds)
    expect(rollouts.failedAtStart.promptTokenIds).toEqual(rollouts.records.exact[0]!.promptTokenIds)
    expect(output.response_ids[1]).toEqual([151645])
    expect(output.loss_masks[1]).toEqual([0])
    expect(output.rollout_logprobs![1]).toEqual([0])
    expect(output.rewards).toEqual([1, 0])
    expect(output.stop_reasons).toEqual(['stop', 'error'])
    // SkyRL leaves times out when a trajectory has none
    expect(output.trajectory_generation_times).toBeNull()
    expect(output.trajectory_time_splits).toBeNull()
  })

  it('no null reward, and rows follow the input batch order when its trajectory ids are given', () => {
    expect(catchError(() => toSkyRLGeneratorOutput([{ ...rollouts.exact, reward: null }]))).toMatchObject({
      rule: 'reward-required',
    })
    const inputTrajectoryIds = [
      { instance_id: '7', repetition_id: 2 },
      { instance_id: '7', repetition_id: 0 },
    ]
    const output = toSkyRLGeneratorOutput([rollouts.exact, rollouts.missingLogprobs], { inputTrajectoryIds })
    expect(output.trajectory_ids).toEqual(inputTrajectoryIds)
    expect(output.rewards).toEqual([0, 1])
    const missing = catchError(() =>
      toSkyRLGeneratorOutput([rollouts.exact], { inputTrajectoryIds: [...inputTrajectoryIds] }),
    )
    expect(missing).toMatchObject({ rule: 'input-order', rolloutIndex: null })
    expect((missing as Error).message).toBe(
      'skyrl: input_batch trajectory 0 (7, 2) has no rollout; SkyRL needs one output per input, in input_batch order',
    )
  })
})
