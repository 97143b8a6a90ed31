import { InvalidOptionError } from '@vllm-tito/spec'
import { describe, expect, it } from 'vitest'
import { catchError, recordOf, unverified } from './__fixtures__/records'
import { InexactSequenceError } from './errors'
import type { Rollout } from './rollout'
import { placeReward } from './sequence-rows'
import { toSlimeSamples } from './slime-samples'
import { buildTrajectory } from './trajectory-builder'
import { toVerlRows } from './verl-rows'

const prompt = [100, 1, 101, 100]
const response = [5, 101]
const next = [...prompt, ...response, 7, 100]

function rollout(overrides: Partial<Rollout> = {}): Rollout {
  return {
    taskId: 3,
    sampleIndex: 0,
    rolloutId: 30,
    trajectory: buildTrajectory([recordOf(prompt, response), recordOf(next, [8, 101])]),
    reward: 1,
    ...overrides,
  }
}

describe('rollouts given to the exports are checked', () => {
  it('a rollout field that is missing or malformed is an InvalidOptionError naming the rollout and the field', () => {
    const noReward = catchError(() => toVerlRows([{ ...rollout(), reward: undefined } as never]))
    expect(InvalidOptionError.isInstance(noReward)).toBe(true)
    expect((noReward as Error).message).toBe(
      'toVerlRows rollouts[0]: option `reward` is required (a finite number or null)',
    )
    const badFailure = catchError(() =>
      toSlimeSamples([rollout({ failure: { source: 'network' as never, message: 'x' } })]),
    )
    expect(badFailure).toMatchObject({ where: 'toSlimeSamples rollouts[0] failure', option: 'source' })
    expect((badFailure as InvalidOptionError).allowed).toEqual(['api', 'tool', 'agent'])
    expect((catchError(() => toVerlRows([rollout({ sampleIndex: -1 })])) as Error).message).toBe(
      'toVerlRows rollouts[0]: option `sampleIndex` must be an integer >= 0, got -1',
    )
    expect((catchError(() => toVerlRows([rollout({ records: [] } as never)])) as Error).message).toContain(
      'unknown option `records`',
    )
    expect((catchError(() => toVerlRows({} as never)) as Error).message).toBe(
      'toVerlRows: the rollouts must be an array of Rollout objects',
    )
  })

  it('two rollouts with one rollout id are refused: trainers would count them as one rollout', () => {
    const error = catchError(() => toSlimeSamples([rollout(), rollout({ sampleIndex: 1 })]))
    expect(error).toMatchObject({ trainer: 'slime', rule: 'unique-ids', rolloutIndex: 1 })
    expect((error as Error).message).toBe(
      "slime: rollout 1: rolloutId 30 is also rollout 0's; trainers would count both as one rollout",
    )
  })

  it('an inexact sequence is refused naming its rollout, unless told to skip or include it', () => {
    const flagged = rollout({
      trajectory: buildTrajectory(
        [recordOf(prompt, response), unverified(recordOf(next, [8, 101]), 'unverifiable', 'no usage')],
        { unverified: 'flag' },
      ),
    })
    const error = catchError(() => toVerlRows([rollout({ rolloutId: 31, sampleIndex: 1 }), flagged]))
    expect(InexactSequenceError.isInstance(error)).toBe(true)
    expect((error as Error).message).toBe(
      "rollout 1: sequence 0 is not exact (turn 1: token ids not verified (unverifiable): no usage); pass inexact: 'skip' or 'include' to export anyway",
    )
    expect(toVerlRows([flagged], { inexact: 'include' })).toHaveLength(1)
    // skipped, verl has no row left for the sample
    expect(catchError(() => toVerlRows([flagged], { inexact: 'skip' }))).toMatchObject({
      rule: 'row-required',
    })
  })
})

describe('placeReward', () => {
  it('spreads a rollout reward over its sequences by the placement', () => {
    expect(placeReward(1, 3, 'last-sequence')).toEqual([0, 0, 1])
    expect(placeReward(0.6, 3, 'split')).toEqual([
      0.19999999999999998, 0.19999999999999998, 0.19999999999999998,
    ])
    expect(placeReward(2, 2, 'repeat')).toEqual([2, 2])
    expect(placeReward(null, 2, 'last-sequence')).toEqual([null, null])
    expect(placeReward(5, 1, 'split')).toEqual([5])
  })
})
