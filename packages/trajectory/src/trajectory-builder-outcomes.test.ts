// What the builder reports per add, what its snapshots hold, and the texts it writes: the details the main
// builder tests (trajectory-builder.test.ts) do not pin.
import { TokenIdsUnavailableError, type TokenInPrompt } from '@vllm-tito/spec'
import { describe, expect, it } from 'vitest'
import { catchError, recordOf, unverified } from './__fixtures__/records'
import { QWEN3_SPECIAL_TOKEN_IDS } from './classify-prefix-break'
import { DuplicateResponseError, LogprobLengthError, TokenInputError } from './errors'
import { buildTrajectory, TrajectoryBuilder } from './trajectory-builder'

// 100 = <|im_start|>, 101 = <|im_end|>, 102/103 = <think>/</think>
const specialTokenIds = [100, 101, 102, 103]
const prompt1 = [100, 1, 101, 100]
const response1 = [5, 6, 101]
const prompt2 = [...prompt1, ...response1, 7, 100]
const response2 = [8, 101]

describe('TrajectoryBuilder.add reports each outcome', () => {
  it('started, merged, excluded, merged-lossy, and started after a break with the break', () => {
    const lossy = new TrajectoryBuilder({ specialTokenIds, onBreak: 'merge-lossy' })
    expect(lossy.add(recordOf(prompt1, [102, 5, 103, 6, 101]))).toEqual({
      turnIndex: 0,
      action: 'started',
      break: null,
    })
    const merged = lossy.add(recordOf([...prompt1, 6, 101, 7, 100], response2))
    expect(merged).toMatchObject({
      turnIndex: 1,
      action: 'merged-lossy',
      break: { turnIndex: 1, kind: 'template' },
    })
    expect(lossy.add(unverified(recordOf([1], [2]), 'mismatch', 'x'))).toEqual({
      turnIndex: 2,
      action: 'excluded',
      break: null,
    })
    const fresh = new TrajectoryBuilder({ specialTokenIds })
    fresh.add(recordOf(prompt1, response1))
    expect(fresh.add(recordOf([100, 9, 101, 100], response2))).toMatchObject({
      turnIndex: 1,
      action: 'started',
      break: { turnIndex: 1, kind: 'other', driftIndex: 1 },
    })
  })

  it('merge-lossy that cannot align starts a new sequence and reports the break', () => {
    const builder = new TrajectoryBuilder({ specialTokenIds, onBreak: 'merge-lossy' })
    builder.add(recordOf(prompt1, [5, 6]))
    expect(builder.add(recordOf([100, 9, 101], response2))).toMatchObject({
      turnIndex: 1,
      action: 'started',
      break: { kind: 'other' },
    })
  })
})

describe('TrajectoryBuilder snapshots and reset', () => {
  it('build() hands out copies: changing a snapshot never changes the builder', () => {
    const builder = new TrajectoryBuilder({ specialTokenIds, unverified: 'flag' })
    builder.add(recordOf(prompt1, response1, { logprobs: [-1, -2, -3] }))
    builder.add(unverified(recordOf(prompt2, response2), 'mismatch', 'off by one'))
    const snapshot = builder.build()
    const [sequence] = snapshot.sequences
    sequence!.lossMask.push(1)
    sequence!.logprobs.push(-9)
    sequence!.issues.push('edited')
    sequence!.turns[0]!.verified = false
    const again = builder.build().sequences[0]!
    expect(again.lossMask).toHaveLength(prompt2.length + response2.length)
    expect(again.logprobs).toHaveLength(prompt2.length + response2.length)
    expect(again.issues).toEqual(['turn 1: token ids not verified (mismatch): off by one'])
    expect(again.turns[0]!.verified).toBe(true)
  })

  it('reset() forgets the breaks, excluded turns and seen responses of the previous rollout', () => {
    const builder = new TrajectoryBuilder({ specialTokenIds })
    const first = recordOf(prompt1, response1)
    builder.add(first)
    builder.add(recordOf([100, 9, 101, 100], response2))
    builder.add(unverified(recordOf([1], [2]), 'mismatch', 'x'))
    builder.reset()
    expect(builder.build()).toEqual({
      sequences: [],
      breaks: [],
      excludedTurns: [],
      metrics: {
        turns: 0,
        turnsIncluded: 0,
        turnsMerged: 0,
        lossyMerges: 0,
        turnsExcluded: 0,
        sequences: 0,
        breaks: { template: 0, retokenization: 0, other: 0 },
        tokensInSequences: 0,
        tokensInPerTurnRows: 0,
        tokensSaved: 0,
        compressionRatio: 1,
      },
    })
    // the same record is a new rollout's first turn, not a repeat
    expect(builder.add(first).action).toBe('started')
  })

  it('with every turn excluded the compression ratio is 1, not 0 / 0', () => {
    const trajectory = buildTrajectory([unverified(recordOf([1], [2]), 'mismatch', 'x')])
    expect(trajectory.metrics).toMatchObject({
      tokensInSequences: 0,
      tokensInPerTurnRows: 0,
      compressionRatio: 1,
    })
  })

  it('a turn without token-in segments has no tokenInSegments key at all', () => {
    const trajectory = buildTrajectory([recordOf(prompt1, response1), recordOf(prompt2, response2)])
    for (const turn of trajectory.sequences[0]!.turns)
      expect(Object.keys(turn)).not.toContain('tokenInSegments')
  })
})

describe('TrajectoryBuilder texts', () => {
  it('an excluded turn lists every issue; one without issues gives the reason alone', () => {
    const twoIssues = { ...recordOf([1], [2]) }
    twoIssues.verification = {
      ...twoIssues.verification,
      status: 'mismatch',
      verified: false,
      issues: ['a', 'b'],
    }
    const noIssues = { ...recordOf([3], [4]) }
    noIssues.verification = { ...noIssues.verification, status: 'unverifiable', verified: false, issues: [] }
    expect(buildTrajectory([twoIssues, noIssues]).excludedTurns).toEqual([
      { turnIndex: 0, status: 'mismatch', detail: 'token ids not verified (mismatch): a; b' },
      { turnIndex: 1, status: 'unverifiable', detail: 'token ids not verified (unverifiable)' },
    ])
  })

  it('a flagged turn lists every issue in the sequence; one without issues names only its status', () => {
    const twoIssues = { ...recordOf(prompt1, response1) }
    twoIssues.verification = {
      ...twoIssues.verification,
      status: 'mismatch',
      verified: false,
      issues: ['a', 'b'],
    }
    const noIssues = { ...recordOf(prompt2, response2) }
    noIssues.verification = { ...noIssues.verification, status: 'unverifiable', verified: false, issues: [] }
    expect(buildTrajectory([twoIssues, noIssues], { unverified: 'flag' }).sequences[0]!.issues).toEqual([
      'turn 0: token ids not verified (mismatch): a; b',
      'turn 1: token ids not verified (unverifiable)',
    ])
  })

  it('unverified: throw hands the record without ids to TokenIdsUnavailableError', () => {
    const noIds = recordOf([1], [2], { tokenIds: null })
    const error = catchError(() => new TrajectoryBuilder({ unverified: 'throw' }).add(noIds))
    expect(TokenIdsUnavailableError.isInstance(error)).toBe(true)
    expect((error as TokenIdsUnavailableError).records).toEqual([noIds])
  })

  it('names the turn and the part of malformed prompt ids and logprobs', () => {
    const badPrompt = catchError(() => buildTrajectory([recordOf(prompt1, response1), recordOf([1.5], [2])]))
    expect(TokenInputError.isInstance(badPrompt)).toBe(true)
    expect((badPrompt as Error).message).toBe(
      'turn 1 prompt token ids[0] is 1.5, not a token id (an integer from 0 to 4294967295)',
    )
    const badLogprobs = catchError(() =>
      buildTrajectory([recordOf(prompt1, response1, { logprobs: [-1, Number.NaN, -1] })]),
    )
    expect((badLogprobs as Error).message).toBe(
      'turn 0 response logprobs[1] is NaN, not a finite number or null',
    )
  })

  it('strictLogprobs names the response lengths, and accepts logprobs that line up', () => {
    const builder = new TrajectoryBuilder({ strictLogprobs: true })
    const error = catchError(() => builder.add(recordOf(prompt1, response1, { logprobs: [-0.1] })))
    expect(LogprobLengthError.isInstance(error)).toBe(true)
    expect(error).toMatchObject({ tokenCount: 3, logprobCount: 1 })
    expect((error as Error).message).toBe(
      'response logprobs length (1) must equal its token ids length (3); logprobs are never padded or truncated',
    )
    expect(builder.add(recordOf(prompt1, response1, { logprobs: [-1, -2, -3] })).action).toBe('started')
    expect(builder.add(recordOf(prompt2, response2, { logprobs: null })).action).toBe('merged')
  })
})

describe('TrajectoryBuilder: repeated response ids', () => {
  it('a repeat is the same prompt and the same response ids: changing either one is a new call', () => {
    const original = recordOf(prompt1, response1, { responseId: 'same' })
    const otherResponse = recordOf(prompt1, [6, 5, 101], { responseId: 'same' })
    const otherPrompt = recordOf([100, 2, 101, 100], response1, { responseId: 'same' })
    const builder = new TrajectoryBuilder()
    builder.add(original)
    expect(builder.add(otherResponse).turnIndex).toBe(1)
    expect(builder.add(otherPrompt).turnIndex).toBe(2)
  })

  it('every accepted call is remembered: repeating the second of two calls sharing an id is caught', () => {
    const builder = new TrajectoryBuilder()
    builder.add(recordOf(prompt1, response1, { responseId: 'const' }))
    const second = recordOf(prompt1, [6, 5, 101], { responseId: 'const' })
    builder.add(second)
    const error = catchError(() => builder.add(second))
    expect(DuplicateResponseError.isInstance(error)).toBe(true)
    expect(error).toMatchObject({ turnIndex: 2, earlierTurnIndex: 1 })
  })

  it('records without ids sharing a response id are no repeats of each other or of one with ids', () => {
    const builder = new TrajectoryBuilder()
    const noIds = recordOf([1], [2], { responseId: 'x', promptTokenIds: null, tokenIds: null })
    expect(builder.add(noIds).action).toBe('excluded')
    expect(builder.add({ ...noIds }).action).toBe('excluded')
    expect(builder.add(recordOf([1], [2], { responseId: 'x' })).action).toBe('started')
    expect(builder.add(recordOf([1], [2], { responseId: 'x', tokenIds: null })).action).toBe('excluded')
  })
})

describe('TrajectoryBuilder: token-in segments over several turns', () => {
  const IM_START = 151644
  const IM_END = 151645
  const appended = (keptLength: number): TokenInPrompt => ({
    mode: 'appended',
    renderReason: null,
    detail: null,
    keptLength,
    segments: [
      { kind: 'messages', start: keptLength, end: keptLength + 3, roles: ['user'] },
      { kind: 'generation-prompt', start: keptLength + 3, end: keptLength + 5, roles: [] },
    ],
  })
  const suffix = [IM_START, 872, IM_END, IM_START, 77091]

  it("each appended turn's segments land on its own prompt suffix in the sequence", () => {
    const first = recordOf([IM_START, 1, IM_END, IM_START, 77091], [9, IM_END])
    const secondPrompt = [...first.promptTokenIds!, ...first.tokenIds!, ...suffix]
    const second = recordOf(secondPrompt, [8, IM_END], { tokenIn: appended(7) })
    const thirdPrompt = [...secondPrompt, ...second.tokenIds!, ...suffix]
    const third = recordOf(thirdPrompt, [7, IM_END], { tokenIn: appended(14) })
    const trajectory = buildTrajectory([first, second, third], { specialTokenIds: QWEN3_SPECIAL_TOKEN_IDS })
    const [sequence] = trajectory.sequences
    expect(
      sequence!.turns.map((turn) => turn.tokenInSegments?.map((segment) => [segment.start, segment.end])),
    ).toEqual([
      undefined,
      [
        [7, 10],
        [10, 12],
      ],
      [
        [14, 17],
        [17, 19],
      ],
    ])
  })
})
