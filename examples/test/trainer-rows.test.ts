// `pnpm example trainer-rows` as a user runs it: a child process against the embedded mocks; the four files it
// writes are parsed and checked against each other and against each trainer's rules.
import { startsWithIds } from '@vllm-tito/spec'
import type { AgentLightningTriplet, SkyRLGeneratorOutput, SlimeSample, VerlRow } from '@vllm-tito/trajectory'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ExampleRun, parseJsonl, runExampleFile, valueAfter } from './run-example'

let run: ExampleRun
let verl: VerlRow[]
let skyrl: SkyRLGeneratorOutput
let slime: SlimeSample[]
let triplets: AgentLightningTriplet[]
beforeAll(async () => {
  run = await runExampleFile('trainer-rows.ts')
  expect(run.stderr).toBe('')
  expect(run.exitCode).toBe(0)
  verl = parseJsonl(run.readOutput('trainer-rows/verl.jsonl')) as VerlRow[]
  skyrl = JSON.parse(run.readOutput('trainer-rows/skyrl.json')) as SkyRLGeneratorOutput
  slime = parseJsonl(run.readOutput('trainer-rows/slime.jsonl')) as SlimeSample[]
  triplets = parseJsonl(run.readOutput('trainer-rows/agent-lightning.jsonl')) as AgentLightningTriplet[]
}, 120_000)
afterAll(() => run?.cleanUp())

/** Full token sequence of each of a rollout's triplets' last call: prompt + response. */
function lastCallSequence(rolloutId: number): number[] {
  const last = triplets.filter((triplet) => triplet.metadata.vllm_tito.rollout_id === rolloutId).at(-1)!
  return [...last.prompt.token_ids, ...last.response.token_ids]
}

describe('pnpm example trainer-rows', () => {
  it('runs a group of four rollouts of one task; the one on the splitting mock breaks at a retokenization', () => {
    expect(valueAfter(run.stdout, 'task 0: ')).toBe(
      'What is 17 * 23? Use the calculator tool. (a group of 4 rollouts)',
    )
    expect(valueAfter(run.stdout, 'rollout 0: ')).toBe('17 * 23 is 391. (reward 1); 1 sequence(s)')
    expect(valueAfter(run.stdout, 'rollout 1: ')).toBe(
      '17 * 23 is 391. (reward 1); 2 sequence(s): retokenization break at call 1',
    )
    expect(valueAfter(run.stdout, 'rollout 2: ')).toBe('17 * 23 is 381. (reward 0); 1 sequence(s)')
    expect(valueAfter(run.stdout, 'rollout 3: ')).toBe('17 * 23 is 391. (reward 1); 1 sequence(s)')
    expect(valueAfter(run.stdout, 'verl AgentLoopOutput rows (JSONL):       ')).toBe(
      `${run.outputDirectory}/trainer-rows/verl.jsonl`,
    )
    expect(run.stdout).toContain('  8 triplets, one per call; rewards null, 1, null, 1, null, 0, null, 1\n')
  })

  it('verl.jsonl: one AgentLoopOutput per sample, the split rollout as its last sequence', () => {
    expect(verl.map((row) => [row.extra_fields.vllm_tito.sample_index, row.reward_score])).toEqual([
      [0, 1],
      [1, 1],
      [2, 0],
      [3, 1],
    ])
    for (const [index, row] of verl.entries()) {
      expect(Object.keys(row.metrics).sort()).toEqual([
        'compute_score',
        'generate_sequences',
        'num_preempted',
        'tool_calls',
      ])
      expect(row.response_mask).toHaveLength(row.response_ids.length)
      expect(row.response_logprobs).toHaveLength(row.response_ids.length)
      // each row is its rollout's last call exactly: prompt + everything after it
      expect([...row.prompt_ids, ...row.response_ids]).toEqual(lastCallSequence(index))
    }
    expect(verl.map((row) => row.num_turns)).toEqual([4, 2, 4, 4])
    expect(verl[1]!.extra_fields.vllm_tito).toMatchObject({
      sequence_index: 1,
      sequences_in_rollout: 2,
      prefix_breaks: 1,
    })
  })

  it('skyrl.json: one step-wise GeneratorOutput, the split trajectory as two steps rewarded on the last', () => {
    expect(skyrl.trajectory_ids).toEqual(
      [0, 1, 1, 2, 3].map((sample) => ({ instance_id: '0', repetition_id: sample })),
    )
    expect(skyrl.is_last_step).toEqual([true, false, true, true, true])
    expect(skyrl.rewards).toEqual([1, 0, 1, 0, 1])
    expect(skyrl.stop_reasons).toEqual(['stop', 'stop', 'stop', 'stop', 'stop'])
    expect(skyrl.rollout_metrics['vllm_tito/split_rollouts']).toBe(1)
    skyrl.response_ids.forEach((response, row) => {
      expect(skyrl.loss_masks[row]).toHaveLength(response.length)
      expect(skyrl.rollout_logprobs![row]).toHaveLength(response.length)
    })
    // the split trajectory's first step is its first call alone: it does not extend into the second prompt
    const firstStep = [...skyrl.prompt_token_ids[1]!, ...skyrl.response_ids[1]!]
    expect(startsWithIds(skyrl.prompt_token_ids[2]!, firstStep)).toBe(false)
  })

  it('slime.jsonl: one Sample per sequence; the split rollout shares its rollout_id and full reward', () => {
    expect(
      slime.map((sample) => [sample.group_index, sample.index, sample.rollout_id, sample.reward]),
    ).toEqual([
      [0, 0, 0, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 2, 2, 0],
      [0, 3, 3, 1],
    ])
    for (const sample of slime) {
      expect(sample.status).toBe('completed')
      expect(sample.loss_mask).toHaveLength(sample.response_length)
      expect(sample.rollout_log_probs).toHaveLength(sample.response_length)
    }
    // the same tokens every trainer gets: slime's tokens are SkyRL's prompt + response, row by row
    expect(slime.map((sample) => sample.tokens)).toEqual(
      skyrl.prompt_token_ids.map((prompt, row) => [...prompt, ...skyrl.response_ids[row]!]),
    )
  })

  it('agent-lightning.jsonl: one triplet per call with log_probs, the reward on each rollout last', () => {
    expect(triplets.map((triplet) => triplet.metadata.vllm_tito.rollout_id)).toEqual([0, 0, 1, 1, 2, 2, 3, 3])
    for (const triplet of triplets) {
      expect(triplet.response.log_probs).toHaveLength(triplet.response.token_ids.length)
    }
    // an exact rollout: the second call's prompt extends the first call's prompt + response
    const [first, second] = triplets
    expect(
      startsWithIds(second!.prompt.token_ids, [...first!.prompt.token_ids, ...first!.response.token_ids]),
    ).toBe(true)
    expect(first!.prompt.token_ids).toEqual(verl[0]!.prompt_ids)
  })
})
