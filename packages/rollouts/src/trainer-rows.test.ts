import { type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import { TrainerRowError } from '@vllm-tito/trajectory'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RolloutResult } from './rollout-types'
import { runRollouts } from './run-rollouts'
import { summarizeRun } from './run-summary'
import { singleTurnRollout } from './single-turn-rollout'
import { formatTrainerRows, tokensTrainedOn, toTrainerRows } from './trainer-rows'

const MODEL = 'Qwen/Qwen3-8B'
let server: MockVllmServer
let results: RolloutResult[]

beforeAll(async () => {
  server = await startMockVllm({ model: MODEL, policy: { script: ['Yes.', 'No.'] } })
  results = []
  const rewards: Record<string, number> = { 'q1/0': 1, 'q1/1': 0, 'q2/0': 1, 'q2/1': 1 }
  for await (const result of runRollouts({
    tasks: [
      { id: 'q1', question: 'Is it?', answer: 'Yes' },
      { id: 'q2', question: 'Is it not?', answer: 'No' },
    ],
    groupSize: 2,
    rollout: singleTurnRollout(),
    reward: (_task, outcome) => rewards[String(outcome.rolloutId)]!,
    baseUrl: server.baseUrl,
    modelId: MODEL,
    concurrency: 1,
  })) {
    results.push(result)
  }
  results.sort((left, right) => left.rolloutNumber - right.rolloutNumber)
})
afterAll(async () => {
  await server.close()
})

describe('toTrainerRows', () => {
  it('writes every format from the same results, with the given ids or the positions', () => {
    const verl = toTrainerRows(results, { format: 'verl' })
    expect(verl.format === 'verl' && verl.rows.map((row) => row.reward_score)).toEqual([1, 0, 1, 1])
    const skyrl = toTrainerRows(results, { format: 'skyrl' })
    expect(skyrl.format === 'skyrl' && skyrl.rows.trajectory_ids).toEqual([
      { instance_id: 'q1', repetition_id: 0 },
      { instance_id: 'q1', repetition_id: 1 },
      { instance_id: 'q2', repetition_id: 0 },
      { instance_id: 'q2', repetition_id: 1 },
    ])
    const slime = toTrainerRows(results, { format: 'slime', ids: 'positions' })
    expect(
      slime.format === 'slime' && slime.rows.map((sample) => [sample.group_index, sample.index]),
    ).toEqual([
      [0, 0],
      [0, 1],
      [1, 2],
      [1, 3],
    ])
    const triplets = toTrainerRows(results, { format: 'agent-lightning' })
    expect(triplets.format === 'agent-lightning' && triplets.rows).toHaveLength(4)
    // every format trains on the same model tokens: each response's ids
    const generated = results.reduce((sum, result) => sum + result.records[0]!.tokenIds!.length, 0)
    for (const rows of [verl, skyrl, slime, triplets]) expect(tokensTrainedOn(rows)).toBe(generated)
  })

  it('refuses string ids for slime, whose group_index and index are integers', () => {
    expect(() => toTrainerRows(results, { format: 'slime' })).toThrow(TrainerRowError)
  })

  it('formats JSONL for row formats and one JSON object for SkyRL', () => {
    const text = formatTrainerRows(toTrainerRows(results, { format: 'verl' }))
    expect(text.split('\n')).toHaveLength(5)
    expect(text.endsWith('}\n')).toBe(true)
    const skyrl = formatTrainerRows(toTrainerRows(results, { format: 'skyrl' }))
    expect(skyrl.split('\n')).toHaveLength(2)
    expect(Object.keys(JSON.parse(skyrl))).toContain('rollout_metrics')
  })
})

describe('toTrainerRows: rollouts without a row', () => {
  /** `results[index]` as a rollout that failed before its first call, with or without its prompt ids. */
  const failedEarly = (index: number, promptTokenIds: number[] | null): RolloutResult => ({
    ...results[index]!,
    status: 'failed',
    records: [],
    promptTokenIds,
    failure: { kind: 'api', source: 'api', message: 'APICallError: 500', retryable: true, statusCode: 500 },
  })

  it('leaves out a rollout the exporter refuses on its own, naming it by its own ids, and exports the rest', () => {
    const batch = [results[0]!, results[1]!, failedEarly(2, [1, 2, 3]), results[3]!]
    const skyrl = toTrainerRows(batch, { format: 'skyrl' })
    expect(skyrl.format === 'skyrl' && skyrl.rows.trajectory_ids.map((id) => id.instance_id)).toEqual([
      'q1',
      'q1',
      'q2',
    ])
    expect(skyrl.leftOut).toEqual([
      {
        taskId: 'q2',
        sampleIndex: 0,
        rolloutId: 'q2/0',
        rolloutNumber: 2,
        rule: 'row-required',
        reason:
          'skyrl: a row has no response token, and SkyRL writes the reward at response[-1]; pass emptyResponseTokenId (e.g. the EOS id) for a mask-0 placeholder',
        failure: 'APICallError: 500',
      },
    ])
    const withToken = toTrainerRows(batch, {
      format: 'skyrl',
      exportOptions: { emptyResponseTokenId: 151645 },
    })
    expect(withToken.leftOut).toEqual([])
    expect(withToken.format === 'skyrl' && withToken.rows.response_ids[2]).toEqual([151645])
  })

  it('throws for SkyRL when every rollout is left out (it rejects an empty GeneratorOutput); verl gets no rows', () => {
    const batch = [failedEarly(0, null), failedEarly(1, null)]
    expect(() => toTrainerRows(batch, { format: 'skyrl' })).toThrow(
      /^skyrl: every rollout \(2\) was left out, and SkyRL rejects an empty GeneratorOutput; the first, "q1\/0": no record/,
    )
    const verl = toTrainerRows(batch, { format: 'verl' })
    expect([verl.rows, verl.leftOut.map((entry) => entry.rolloutId)]).toEqual([[], ['q1/0', 'q1/1']])
  })
})

describe('summarizeRun', () => {
  it('gives per-group reward mean and population std, the success rate and the verified share', () => {
    const summary = summarizeRun(results, 99)
    expect(summary).toMatchObject({
      rollouts: 4,
      succeeded: 4,
      successRate: 1,
      records: 4,
      verifiedRecords: 4,
      verifiedShare: 1,
      tokensTrainedOn: 99,
      rewardMean: 0.75,
      retriedRollouts: 0,
      modelCalls: { streamed: 0, nonStreamed: 4 },
    })
    expect(summary.groups).toEqual([
      { taskId: 'q1', rollouts: 2, succeeded: 2, rewardMean: 0.5, rewardStd: 0.5 },
      { taskId: 'q2', rollouts: 2, succeeded: 2, rewardMean: 1, rewardStd: 0 },
    ])
  })

  it('counts failures by kind and leaves rewards of a group without any as null', () => {
    const failed: RolloutResult = {
      ...results[0]!,
      status: 'failed',
      reward: null,
      records: [],
      failure: { kind: 'timeout', source: 'api', message: 'late', retryable: true, statusCode: null },
    }
    const summary = summarizeRun([failed])
    expect(summary.failedByKind).toEqual({ timeout: 1 })
    expect(summary.successRate).toBe(0)
    expect(summary.verifiedShare).toBe(0)
    expect(summary.groups).toEqual([
      { taskId: 'q1', rollouts: 1, succeeded: 0, rewardMean: null, rewardStd: null },
    ])
  })
})
