import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { recordOf, unverified } from './__fixtures__/records'
import { TokenManager } from './token-manager'
import { buildTrajectory } from './trajectory-builder'

// the seed is fixed for every property test by the shared vitest setup (FC_SEED overrides it), so a failure
// reproduces; the failure message names the seed and the shrunk counterexample

const ids = fc.array(fc.integer({ min: 0, max: 200_000 }), { maxLength: 12 })
const logprob = fc.option(fc.double({ min: -20, max: 0, noNaN: true }), { nil: null })

/** One turn of a random rollout: the new prompt part, the response, its logprobs, and how the prompt relates. */
const turn = fc.record({
  suffix: ids,
  response: ids,
  withLogprobs: fc.boolean(),
  logprobs: fc.array(logprob, { maxLength: 12 }),
  relation: fc.constantFrom('extends', 'extends', 'extends', 'fresh'),
  verified: fc.boolean(),
  freshPrompt: ids,
})

/** Random rollouts: most prompts extend the previous context, some start over; some records unverified. */
const rollout = fc.array(turn, { minLength: 1, maxLength: 8 }).map((turns) => {
  let context: number[] = []
  return turns.map((step) => {
    const prompt = step.relation === 'extends' ? [...context, ...step.suffix] : step.freshPrompt
    const logprobs = step.withLogprobs ? step.response.map((_, index) => step.logprobs[index] ?? null) : null
    const record = recordOf(prompt, step.response, { logprobs })
    if (step.verified) context = [...prompt, ...step.response]
    return step.verified ? record : unverified(record, 'mismatch', 'random')
  })
})

describe('properties over random records', () => {
  it('TokenManager: mask, ids and logprobs stay aligned; every token appended once, in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ ids, isOutput: fc.boolean(), logprobs: fc.option(fc.array(logprob)) })),
        (segments) => {
          const manager = new TokenManager()
          for (const segment of segments) {
            if (segment.isOutput) manager.addResponse(segment.ids, segment.logprobs)
            else manager.addPrompt(segment.ids, segment.logprobs)
          }
          const expectedIds = segments.flatMap((segment) => segment.ids)
          expect(manager.tokenIds).toEqual(expectedIds)
          expect(manager.lossMask.length).toBe(expectedIds.length)
          expect(manager.logprobs.length).toBe(expectedIds.length)
          expect(manager.lossMask).toEqual(
            segments.flatMap((segment) => segment.ids.map(() => (segment.isOutput ? 1 : 0))),
          )
          expect(manager.logprobs).toEqual(
            segments.flatMap((segment) =>
              segment.ids.map((_, index) =>
                segment.logprobs && segment.logprobs.length === segment.ids.length
                  ? segment.logprobs[index]
                  : null,
              ),
            ),
          )
          expect(manager.segments.length).toBe(segments.filter((segment) => segment.ids.length > 0).length)
        },
      ),
    )
  })

  it('builder: lengths match, responses keep their logprobs, nothing lost or duplicated', () => {
    fc.assert(
      fc.property(rollout, (records) => {
        const trajectory = buildTrajectory(records)
        const included = new Set<number>()
        for (const sequence of trajectory.sequences) {
          expect(sequence.lossMask.length).toBe(sequence.tokenIds.length)
          expect(sequence.logprobs.length).toBe(sequence.tokenIds.length)
          let previousEnd = 0
          for (const turn of sequence.turns) {
            const record = records[turn.turnIndex]!
            included.add(turn.turnIndex)
            // the turn's prompt is exactly the sequence up to its response: no token lost or duplicated
            expect(sequence.tokenIds.slice(0, turn.responseStart)).toEqual(record.promptTokenIds)
            expect(sequence.tokenIds.slice(turn.responseStart, turn.responseEnd)).toEqual(record.tokenIds)
            expect(
              sequence.lossMask.slice(turn.responseStart, turn.responseEnd).every((mask) => mask === 1),
            ).toBe(true)
            expect(sequence.lossMask.slice(previousEnd, turn.responseStart).every((mask) => mask === 0)).toBe(
              true,
            )
            expect(sequence.logprobs.slice(turn.responseStart, turn.responseEnd)).toEqual(
              record.logprobs ?? record.tokenIds!.map(() => null),
            )
            expect(
              sequence.logprobs.slice(previousEnd, turn.responseStart).every((value) => value === null),
            ).toBe(true)
            previousEnd = turn.responseEnd
          }
          expect(previousEnd).toBe(sequence.tokenIds.length)
          expect(sequence.exact).toBe(true)
        }
        // every verified record is in exactly one sequence, every unverified one is excluded
        const verifiedIndices = records.flatMap((record, index) =>
          record.verification.verified ? [index] : [],
        )
        expect([...included].sort((left, right) => left - right)).toEqual(verifiedIndices)
        expect(trajectory.excludedTurns.map((excluded) => excluded.turnIndex)).toEqual(
          records.flatMap((record, index) => (record.verification.verified ? [] : [index])),
        )
        const perTurn = verifiedIndices.reduce(
          (sum, index) => sum + records[index]!.promptTokenIds!.length + records[index]!.tokenIds!.length,
          0,
        )
        expect(trajectory.metrics.tokensInPerTurnRows).toBe(perTurn)
        expect(trajectory.metrics.tokensSaved).toBe(perTurn - trajectory.metrics.tokensInSequences)
      }),
      { numRuns: 300 },
    )
  })

  it('merge-lossy: every turn appends a tail of its own prompt, then exactly its response', () => {
    // a small alphabet where 100/101 are special, so closing tokens, breaks and alignments happen often
    const smallIds = fc.array(fc.constantFrom(1, 2, 3, 100, 101), { maxLength: 8 })
    const lossyRollout = fc
      .array(
        fc.record({ suffix: smallIds, response: smallIds, fresh: fc.boolean(), freshPrompt: smallIds }),
        {
          minLength: 1,
          maxLength: 6,
        },
      )
      .map((turns) => {
        let context: number[] = []
        return turns.map((step) => {
          const prompt = step.fresh ? step.freshPrompt : [...context, ...step.suffix]
          context = [...prompt, ...step.response]
          return recordOf(prompt, step.response)
        })
      })
    fc.assert(
      fc.property(lossyRollout, (records) => {
        const trajectory = buildTrajectory(records, { onBreak: 'merge-lossy', specialTokenIds: [100, 101] })
        let turnsSeen = 0
        for (const sequence of trajectory.sequences) {
          expect(sequence.lossMask.length).toBe(sequence.tokenIds.length)
          for (const turn of sequence.turns) {
            turnsSeen += 1
            const record = records[turn.turnIndex]!
            const added = sequence.tokenIds.slice(turn.promptStart, turn.responseStart)
            const prompt = record.promptTokenIds!
            expect(prompt.slice(prompt.length - added.length)).toEqual(added)
            expect(sequence.tokenIds.slice(turn.responseStart, turn.responseEnd)).toEqual(record.tokenIds)
            if (turn.join === 'lossy') {
              // aligned just after a special closing token of the previous context
              expect([100, 101]).toContain(sequence.tokenIds[turn.promptStart - 1])
            }
          }
          expect(sequence.exact).toBe(sequence.turns.every((turn) => turn.join !== 'lossy'))
        }
        expect(turnsSeen).toBe(records.length)
      }),
      { numRuns: 300 },
    )
  })
})
