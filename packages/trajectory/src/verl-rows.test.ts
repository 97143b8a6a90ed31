import { InvalidOptionError } from '@vllm-tito/spec'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type MockRollouts,
  mergedRow,
  recordSeconds,
  runMockRollouts,
  TASK_ID,
} from './__fixtures__/mock-rollouts'
import { catchError } from './__fixtures__/records'
import { TrainerRowError } from './errors'
import { toVerlRows, type VerlRow } from './verl-rows'

// rows built from real rollouts: VLLMClient over HTTP against mock-vllm with the real Qwen3 template
let rollouts: MockRollouts
beforeAll(async () => {
  rollouts = await runMockRollouts()
})
afterAll(async () => {
  await rollouts.close()
})

/** verl's AgentLoopOutput fields (verl/experimental/agent_loop/agent_loop.py); `metrics` is required. */
const AGENT_LOOP_OUTPUT_KEYS = [
  'extra_fields',
  'metrics',
  'num_turns',
  'prompt_ids',
  'response_ids',
  'response_logprobs',
  'response_mask',
  'reward_score',
]

/** The invariants verl relies on: mask and logprobs cover exactly the response, logprobs 0.0 off the model tokens. */
function expectVerlInvariants(row: VerlRow): void {
  expect(Object.keys(row).sort()).toEqual(AGENT_LOOP_OUTPUT_KEYS)
  expect(Object.keys(row.metrics).sort()).toEqual([
    'compute_score',
    'generate_sequences',
    'num_preempted',
    'tool_calls',
  ])
  expect(row.response_mask).toHaveLength(row.response_ids.length)
  if (row.response_logprobs !== null) {
    expect(row.response_logprobs).toHaveLength(row.response_ids.length)
    row.response_mask.forEach((mask, index) => {
      if (mask === 0) expect(row.response_logprobs![index]).toBe(0)
    })
  }
}

describe('toVerlRows from mock-vllm rollouts', () => {
  it('an exact rollout is one AgentLoopOutput: merged response, mask over the response only, metrics, ids', () => {
    const [first, second] = rollouts.records.exact
    const expected = mergedRow(first!, second!)
    const [row, ...more] = toVerlRows([rollouts.exact])
    expect(more).toEqual([])
    expectVerlInvariants(row!)
    const seconds = recordSeconds(rollouts.records.exact)
    expect(row).toEqual({
      prompt_ids: expected.prompt,
      response_ids: expected.response,
      response_mask: expected.mask,
      response_logprobs: expected.logprobs,
      reward_score: 1,
      // user, assistant (tool call), tool result, assistant (answer)
      num_turns: 4,
      metrics: {
        generate_sequences: seconds.calls,
        tool_calls: seconds.between,
        compute_score: 0,
        num_preempted: -1,
      },
      extra_fields: {
        vllm_tito: {
          task_id: TASK_ID,
          sample_index: 0,
          rollout_id: 100,
          sequence_index: 0,
          sequences_in_rollout: 1,
          status: 'completed',
          failure: null,
          prefix_breaks: 0,
          truncated: null,
        },
      },
    })
    expect(expected.added.length).toBeGreaterThan(0)
    expect(expected.logprobs).not.toBeNull()
  })

  it('a rollout split at a prefix break is refused (one output per sample), or gives its last sequence', () => {
    const error = catchError(() => toVerlRows([rollouts.exact, rollouts.split]))
    expect(TrainerRowError.isInstance(error)).toBe(true)
    expect(error).toMatchObject({ trainer: 'verl', rule: 'single-sequence', rolloutIndex: 1 })
    expect((error as Error).message).toBe(
      "verl: rollout 1: the rollout split into 2 sequences at prefix breaks, and verl takes one AgentLoopOutput per sample; pass splitRollout: 'last-sequence', or build the trajectory with onBreak: 'merge-lossy'",
    )
    const second = rollouts.records.split[1]!
    const [, row] = toVerlRows([rollouts.exact, rollouts.split], { splitRollout: 'last-sequence' })
    expectVerlInvariants(row!)
    expect(row!.prompt_ids).toEqual(second.promptTokenIds)
    expect(row!.response_ids).toEqual(second.tokenIds)
    expect(row!.response_mask).toEqual(second.tokenIds!.map(() => 1))
    expect(row!.response_logprobs).toEqual(second.logprobs)
    expect(row!.num_turns).toBe(2)
    expect(row!.extra_fields.vllm_tito).toMatchObject({
      rollout_id: 101,
      sequence_index: 1,
      sequences_in_rollout: 2,
      prefix_breaks: 1,
    })
  })

  it('missing logprobs: null for the whole batch (verl takes them all or none), or a typed error', () => {
    const rows = toVerlRows([rollouts.exact, rollouts.missingLogprobs])
    expect(rows.map((row) => row.response_logprobs)).toEqual([null, null])
    rows.forEach(expectVerlInvariants)
    const error = catchError(() =>
      toVerlRows([rollouts.exact, rollouts.missingLogprobs], { mixedLogprobs: 'throw' }),
    )
    expect(error).toMatchObject({ trainer: 'verl', rule: 'logprobs-all-or-none', rolloutIndex: 1 })
    expect(toVerlRows([rollouts.exact])[0]!.response_logprobs).not.toBeNull()
  })

  it('failed rollouts reach verl marked failed: the tokens before the error, or an empty response', () => {
    const [midway, atStart] = toVerlRows([rollouts.failedMidway, rollouts.failedAtStart])
    const first = rollouts.records.failedMidway[0]!
    expectVerlInvariants(midway!)
    expect(midway).toMatchObject({
      prompt_ids: first.promptTokenIds,
      response_ids: first.tokenIds,
      response_logprobs: first.logprobs,
      reward_score: 0,
      num_turns: 2,
    })
    expect(midway!.extra_fields.vllm_tito.status).toBe('failed')
    expect(midway!.extra_fields.vllm_tito.failure).toEqual(rollouts.failedMidway.failure)
    expectVerlInvariants(atStart!)
    expect(atStart).toMatchObject({
      prompt_ids: rollouts.records.exact[0]!.promptTokenIds,
      response_ids: [],
      response_mask: [],
      response_logprobs: [],
      reward_score: 0,
      num_turns: 1,
      metrics: { generate_sequences: 0, tool_calls: 0, compute_score: 0, num_preempted: -1 },
    })
    expect(atStart!.extra_fields.vllm_tito).toMatchObject({ sequence_index: null, status: 'failed' })
    const withoutPrompt = { ...rollouts.failedAtStart, promptTokenIds: null }
    expect(catchError(() => toVerlRows([withoutPrompt]))).toMatchObject({
      rule: 'row-required',
      rolloutIndex: 0,
    })
  })

  it('the whole group: one row per sample in the given order; rewards all given or all null', () => {
    const group = [
      rollouts.exact,
      rollouts.split,
      rollouts.missingLogprobs,
      rollouts.failedMidway,
      rollouts.failedAtStart,
    ]
    const rows = toVerlRows(group, { splitRollout: 'last-sequence' })
    expect(rows.map((row) => [row.extra_fields.vllm_tito.sample_index, row.reward_score])).toEqual([
      [0, 1],
      [1, 1],
      [2, 0],
      [3, 0],
      [4, 0],
    ])
    const unscored = group.map((rollout) => ({ ...rollout, reward: null }))
    expect(toVerlRows(unscored, { splitRollout: 'last-sequence' }).map((row) => row.reward_score)).toEqual([
      null,
      null,
      null,
      null,
      null,
    ])
    const error = catchError(() =>
      toVerlRows([rollouts.exact, { ...rollouts.missingLogprobs, reward: null }]),
    )
    expect(error).toMatchObject({ rule: 'rewards-all-or-none', rolloutIndex: 1 })
  })

  it("truncates to verl's budgets keeping ids, mask and logprobs aligned, and marks the row", () => {
    const [first, second] = rollouts.records.exact
    const expected = mergedRow(first!, second!)
    const [row] = toVerlRows([rollouts.exact], { maxPromptLength: 100, maxResponseLength: 30 })
    expectVerlInvariants(row!)
    // verl keeps a prompt's last tokens and a response's first ones
    expect(row!.prompt_ids).toEqual(expected.prompt.slice(-100))
    expect(row!.response_ids).toEqual(expected.response.slice(0, 30))
    expect(row!.response_mask).toEqual(expected.mask.slice(0, 30))
    expect(row!.response_logprobs).toEqual(expected.logprobs!.slice(0, 30))
    expect(row!.extra_fields.vllm_tito.truncated).toEqual({
      prompt_tokens_dropped: expected.prompt.length - 100,
      response_tokens_dropped: expected.response.length - 30,
    })
    const roomy = toVerlRows([rollouts.exact], { maxPromptLength: 10_000, maxResponseLength: 10_000 })
    expect(roomy[0]!.extra_fields.vllm_tito.truncated).toBeNull()
  })
})

describe('toVerlRows checks its options and rollouts', () => {
  it('a misspelt option, a value outside the allowed ones or a bad budget is an InvalidOptionError', () => {
    const misspelt = catchError(() => toVerlRows([], { splitRollouts: 'last-sequence' } as never))
    expect(InvalidOptionError.isInstance(misspelt)).toBe(true)
    expect((misspelt as Error).message).toBe(
      'toVerlRows: unknown option `splitRollouts` (did you mean `splitRollout`?); known options: inexact, mixedLogprobs, splitRollout, maxPromptLength, maxResponseLength',
    )
    expect(catchError(() => toVerlRows([], { splitRollout: 'first' as never }))).toMatchObject({
      option: 'splitRollout',
      allowed: ['throw', 'last-sequence'],
    })
    expect((catchError(() => toVerlRows([], { maxResponseLength: 0 })) as Error).message).toBe(
      'toVerlRows: option `maxResponseLength` must be an integer >= 1, got 0',
    )
  })

  it('a rollout without its grouping ids, or two rollouts with the same ids, is refused', () => {
    const { taskId: _taskId, ...withoutTask } = rollouts.exact
    const missing = catchError(() => toVerlRows([withoutTask as never]))
    expect(InvalidOptionError.isInstance(missing)).toBe(true)
    expect((missing as Error).message).toBe(
      'toVerlRows rollouts[0]: option `taskId` is required (a non-empty string or an integer >= 0)',
    )
    const twice = catchError(() =>
      toVerlRows([rollouts.exact, { ...rollouts.missingLogprobs, sampleIndex: 0 }]),
    )
    expect(twice).toMatchObject({ trainer: 'verl', rule: 'unique-ids', rolloutIndex: 1 })
    expect((twice as Error).message).toBe(
      'verl: rollout 1: task 7 sample 0 is also rollout 0; each sample of a group needs its own sampleIndex',
    )
  })
})
