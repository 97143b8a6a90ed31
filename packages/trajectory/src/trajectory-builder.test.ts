import { TokenIdsUnavailableError } from '@vllm-tito/spec'
import { describe, expect, it } from 'vitest'
import { catchError, recordOf, unverified } from './__fixtures__/records'
import {
  DuplicateResponseError,
  LogprobLengthError,
  PrefixBreakError,
  TokenInputError,
  UnverifiedRecordError,
} from './errors'
import { buildTrajectory, TrajectoryBuilder } from './trajectory-builder'

// a tiny vocabulary: 100 = <|im_start|>, 101 = <|im_end|>, 102/103 = <think>/</think>
const specialTokenIds = [100, 101, 102, 103]
const pieces: Record<number, string> = { 1: 'a', 2: 'b', 3: 'ab', 5: 'c', 6: 'd', 7: 'x', 8: 'y', 9: 'z' }
const tokenizer = {
  decode: (ids: readonly number[]) =>
    ids
      .map((id) => pieces[id] ?? ({ 100: '<s>', 101: '</s>', 102: '<t>', 103: '</t>' } as const)[id])
      .join(''),
}

const prompt1 = [100, 1, 101, 100]
const response1 = [5, 6, 101]
const prompt2 = [...prompt1, ...response1, 7, 100]
const response2 = [8, 101]
const prompt3 = [...prompt2, ...response2, 9, 100]
const response3 = [2, 101]

function cleanRollout() {
  return [
    recordOf(prompt1, response1, { logprobs: [-0.1, -0.2, -0.3] }),
    recordOf(prompt2, response2, { logprobs: [-0.4, -0.5] }),
    recordOf(prompt3, response3, { logprobs: [-0.6, -0.7], finishReason: 'length' }),
  ]
}

describe('buildTrajectory: prefix merging', () => {
  it('merges turns whose prompt extends the previous prompt + response, appending only the new suffix', () => {
    const trajectory = buildTrajectory(cleanRollout(), { specialTokenIds })
    expect(trajectory.sequences).toHaveLength(1)
    const [sequence] = trajectory.sequences
    expect(sequence!.tokenIds).toEqual([...prompt3, ...response3])
    expect(sequence!.lossMask).toEqual([0, 0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1])
    expect(sequence!.logprobs).toEqual([
      null,
      null,
      null,
      null,
      -0.1,
      -0.2,
      -0.3,
      null,
      null,
      -0.4,
      -0.5,
      null,
      null,
      -0.6,
      -0.7,
    ])
    expect(sequence!.promptLength).toBe(4)
    expect(sequence!.exact).toBe(true)
    expect(sequence!.issues).toEqual([])
    expect(sequence!.logprobsComplete).toBe(true)
    expect(sequence!.turns).toEqual([
      {
        turnIndex: 0,
        join: 'start',
        promptStart: 0,
        responseStart: 4,
        responseEnd: 7,
        finishReason: 'stop',
        verified: true,
        startedAt: 1,
        endedAt: 3,
      },
      {
        turnIndex: 1,
        join: 'prefix',
        promptStart: 7,
        responseStart: 9,
        responseEnd: 11,
        finishReason: 'stop',
        verified: true,
        startedAt: 1,
        endedAt: 3,
      },
      {
        turnIndex: 2,
        join: 'prefix',
        promptStart: 11,
        responseStart: 13,
        responseEnd: 15,
        finishReason: 'length',
        verified: true,
        startedAt: 1,
        endedAt: 3,
      },
    ])
    expect(trajectory.breaks).toEqual([])
    expect(trajectory.metrics).toEqual({
      turns: 3,
      turnsIncluded: 3,
      turnsMerged: 2,
      lossyMerges: 0,
      turnsExcluded: 0,
      sequences: 1,
      breaks: { template: 0, retokenization: 0, other: 0 },
      tokensInSequences: 15,
      tokensInPerTurnRows: 33,
      tokensSaved: 18,
      compressionRatio: 2.2,
    })
  })

  it('a response cut by length (no EOS) merges: the closing token the template adds is prompt (mask 0)', () => {
    const cut = [5, 6]
    const nextPrompt = [...prompt1, ...cut, 101, 7, 100]
    const trajectory = buildTrajectory(
      [recordOf(prompt1, cut, { finishReason: 'length' }), recordOf(nextPrompt, response2)],
      { specialTokenIds },
    )
    expect(trajectory.sequences).toHaveLength(1)
    expect(trajectory.sequences[0]!.tokenIds).toEqual([...nextPrompt, ...response2])
    expect(trajectory.sequences[0]!.lossMask).toEqual([0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1])
  })

  it('an empty suffix (the prompt is exactly the previous context) adds only the response', () => {
    const context = [...prompt1, ...response1]
    const trajectory = buildTrajectory([recordOf(prompt1, response1), recordOf(context, response2)], {
      specialTokenIds,
    })
    expect(trajectory.sequences[0]!.tokenIds).toEqual([...context, ...response2])
    expect(trajectory.sequences[0]!.turns[1]).toMatchObject({
      promptStart: 7,
      responseStart: 7,
      responseEnd: 9,
    })
  })

  it('every id of the previous prompt and response counts: one differing id at either end is a break', () => {
    // the last response id (here the closing token), the last prompt id, and the first ids of each part
    const context = [...prompt1, ...response1]
    for (const position of [0, prompt1.length - 1, prompt1.length, context.length - 1]) {
      const changed = context.slice()
      changed[position] = 9
      const trajectory = buildTrajectory([recordOf(prompt1, response1), recordOf([...changed, 7], response2)])
      expect(trajectory.metrics.turnsMerged, `position ${position}`).toBe(0)
      expect(trajectory.sequences, `position ${position}`).toHaveLength(2)
      expect(trajectory.breaks.map((found) => found.driftIndex)).toEqual([position])
    }
  })

  it('a prompt that holds the previous context only up to its last response id is a break', () => {
    // the new prompt stops one id short of the previous response: a rewound call, never a merge
    const context = [...prompt1, ...response1]
    const trajectory = buildTrajectory([
      recordOf(prompt1, response1),
      recordOf(context.slice(0, -1), response2),
    ])
    expect(trajectory.metrics.turnsMerged).toBe(0)
    expect(trajectory.breaks).toMatchObject([{ kind: 'other', driftIndex: context.length - 1 }])
  })

  it('reports each add and builds independent snapshots', () => {
    const builder = new TrajectoryBuilder({ specialTokenIds })
    const [first, second] = cleanRollout()
    expect(builder.add(first!)).toEqual({ turnIndex: 0, action: 'started', break: null })
    const snapshot = builder.build()
    expect(builder.add(second!)).toEqual({ turnIndex: 1, action: 'merged', break: null })
    expect(snapshot.sequences[0]!.tokenIds).toEqual([...prompt1, ...response1])
    snapshot.sequences[0]!.tokenIds.push(999)
    expect(builder.build().sequences[0]!.tokenIds).toEqual([...prompt2, ...response2])
    builder.reset()
    expect(builder.build().metrics.turns).toBe(0)
    expect(builder.add(second!).action).toBe('started')
  })
})

describe('buildTrajectory: breaks', () => {
  // turn 1 thought (<think> c </think> d); the next prompt renders only d: the template dropped the thinking
  const thinkingResponse = [102, 5, 103, 6, 101]
  const strippedPrompt = [...prompt1, 6, 101, 7, 100]

  it('classifies a dropped think block as a template break and starts a new sequence (default)', () => {
    const trajectory = buildTrajectory(
      [recordOf(prompt1, thinkingResponse), recordOf(strippedPrompt, response2)],
      { specialTokenIds, tokenizer },
    )
    expect(trajectory.sequences.map((sequence) => sequence.tokenIds)).toEqual([
      [...prompt1, ...thinkingResponse],
      [...strippedPrompt, ...response2],
    ])
    expect(trajectory.sequences.every((sequence) => sequence.exact)).toBe(true)
    expect(trajectory.breaks).toEqual([
      {
        turnIndex: 1,
        kind: 'template',
        driftIndex: 4,
        contextLength: 9,
        promptLength: 8,
        detail: 'special-token sequence differs at special token #3: context has id 102, prompt has id 101',
        contextExcerpt: '<s>a</s><s><t>c</t>d</s>',
        promptExcerpt: '<s>a</s><s>d</s>x<s>',
      },
    ])
    expect(trajectory.metrics.breaks).toEqual({ template: 1, retokenization: 0, other: 0 })
    expect(trajectory.metrics.turnsMerged).toBe(0)
    expect(trajectory.metrics.tokensSaved).toBe(0)
  })

  it('classifies same text with different ids as retokenization when a tokenizer is given, else other', () => {
    // the model sampled a+b; the server re-encoded the text "ab" as the single token 3
    const records = [recordOf(prompt1, [1, 2, 101]), recordOf([...prompt1, 3, 101, 7, 100], response2)]
    const withTokenizer = buildTrajectory(records, { specialTokenIds, tokenizer })
    expect(withTokenizer.breaks[0]!.kind).toBe('retokenization')
    expect(withTokenizer.breaks[0]!.driftIndex).toBe(4)
    const withoutTokenizer = buildTrajectory(records, { specialTokenIds })
    expect(withoutTokenizer.breaks[0]!.kind).toBe('other')
    expect(withoutTokenizer.breaks[0]!.detail).toBe(
      'same special-token structure, different ids; no tokenizer given to compare the decoded text',
    )
    expect(withoutTokenizer.breaks[0]!.contextExcerpt).toBeNull()
  })

  it('classifies edited history and retried calls as other', () => {
    const edited = buildTrajectory(
      [recordOf(prompt1, response1), recordOf([100, 1, 101, 100, 9, 9, 101, 7, 100], response2)],
      { specialTokenIds, tokenizer },
    )
    expect(edited.breaks[0]!.kind).toBe('other')
    expect(edited.breaks[0]!.detail).toBe(
      'the decoded text differs from character 11: history was edited, trimmed or re-serialised',
    )
    const retried = buildTrajectory([recordOf(prompt1, response1), recordOf(prompt1, [6, 101])], {
      specialTokenIds,
    })
    expect(retried.breaks[0]!.kind).toBe('other')
    expect(retried.breaks[0]!.driftIndex).toBe(4)
    expect(retried.sequences).toHaveLength(2)
  })

  it('throws PrefixBreakError under onBreak: throw', () => {
    const builder = new TrajectoryBuilder({ specialTokenIds, onBreak: 'throw' })
    builder.add(recordOf(prompt1, thinkingResponse))
    const error = catchError(() => builder.add(recordOf(strippedPrompt, response2)))
    expect(PrefixBreakError.isInstance(error)).toBe(true)
    expect((error as PrefixBreakError).finding.kind).toBe('template')
    expect((error as Error).message).toBe(
      'turn 1: prompt does not start with the previous prompt + response (template break at token 4): special-token sequence differs at special token #3: context has id 102, prompt has id 101',
    )
  })

  it('merge-lossy keeps one sequence aligned on the closing token and flags it inexact', () => {
    const trajectory = buildTrajectory(
      [recordOf(prompt1, thinkingResponse), recordOf(strippedPrompt, response2)],
      { specialTokenIds, onBreak: 'merge-lossy' },
    )
    expect(trajectory.sequences).toHaveLength(1)
    const [sequence] = trajectory.sequences
    expect(sequence!.tokenIds).toEqual([...prompt1, ...thinkingResponse, 7, 100, ...response2])
    expect(sequence!.lossMask).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1])
    expect(sequence!.exact).toBe(false)
    expect(sequence!.issues).toEqual([
      'turn 1: merged across a template break by aligning on closing token 101; the model saw a different history than this sequence holds',
    ])
    expect(sequence!.turns[1]!.join).toBe('lossy')
    expect(trajectory.metrics.lossyMerges).toBe(1)
    expect(trajectory.metrics.turnsMerged).toBe(0)
  })

  it('merge-lossy never aligns on an ordinary token (a response cut by length has no closing token)', () => {
    // turn 0 thought, then answered "c d" and hit max_tokens: no <|im_end|>; token 6 occurs twice in it.
    // Turn 1's prompt drops the think block and closes the turn; its tool result "x d" ends in 6 as well.
    // Counting 6s would align after the tool result and silently lose it (101, 7, 6).
    const truncated = [102, 6, 103, 5, 6]
    const records = [
      recordOf(prompt1, truncated, { finishReason: 'length' }),
      recordOf([...prompt1, 5, 6, 101, 7, 6, 100], response2),
    ]
    const trajectory = buildTrajectory(records, { specialTokenIds, onBreak: 'merge-lossy' })
    expect(trajectory.breaks.map((finding) => finding.kind)).toEqual(['template'])
    expect(trajectory.metrics.lossyMerges).toBe(0)
    expect(trajectory.sequences.map((sequence) => sequence.tokenIds)).toEqual([
      [...prompt1, ...truncated],
      [...prompt1, 5, 6, 101, 7, 6, 100, ...response2],
    ])
    expect(trajectory.sequences.every((sequence) => sequence.exact)).toBe(true)
  })

  it('throw leaves the builder as it was: no break or per-turn tokens counted for the rejected turn', () => {
    const builder = new TrajectoryBuilder({ specialTokenIds, onBreak: 'throw' })
    builder.add(recordOf(prompt1, thinkingResponse))
    expect(() => builder.add(recordOf(strippedPrompt, response2))).toThrowError(PrefixBreakError)
    const { metrics, breaks } = builder.build()
    expect(breaks).toEqual([])
    expect(metrics.breaks).toEqual({ template: 0, retokenization: 0, other: 0 })
    expect(metrics.tokensInPerTurnRows).toBe(prompt1.length + thinkingResponse.length)
    expect(metrics.tokensSaved).toBe(0)
  })

  it('merge-lossy falls back to a new sequence when the closing token cannot be located', () => {
    const trajectory = buildTrajectory([recordOf(prompt1, [5, 6]), recordOf([100, 9, 101], response2)], {
      specialTokenIds,
      onBreak: 'merge-lossy',
    })
    expect(trajectory.sequences).toHaveLength(2)
    expect(trajectory.sequences.every((sequence) => sequence.exact)).toBe(true)
  })
})

describe('buildTrajectory: unverified records never become exact rows silently', () => {
  const [first, second, third] = cleanRollout()
  const bad = unverified(second!, 'mismatch', 'completion ids 2 != usage.completion_tokens 3')

  it('exclude (default): leaves the turn out; its tokens reach the next prompt suffix with mask 0', () => {
    const trajectory = buildTrajectory([first!, bad, third!], { specialTokenIds })
    expect(trajectory.sequences).toHaveLength(1)
    const [sequence] = trajectory.sequences
    expect(sequence!.tokenIds).toEqual([...prompt3, ...response3])
    // turn 1's response (8, 101) sits in turn 2's prompt suffix: not trained on
    expect(sequence!.lossMask).toEqual([0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1])
    expect(sequence!.exact).toBe(true)
    expect(trajectory.excludedTurns).toEqual([
      {
        turnIndex: 1,
        status: 'mismatch',
        detail: 'token ids not verified (mismatch): completion ids 2 != usage.completion_tokens 3',
      },
    ])
    expect(trajectory.metrics.turnsExcluded).toBe(1)
    expect(trajectory.metrics.turnsIncluded).toBe(2)
  })

  it('flag: includes the turn and marks the sequence inexact', () => {
    const trajectory = buildTrajectory([first!, bad, third!], { specialTokenIds, unverified: 'flag' })
    const [sequence] = trajectory.sequences
    expect(sequence!.exact).toBe(false)
    expect(sequence!.issues).toEqual([
      'turn 1: token ids not verified (mismatch): completion ids 2 != usage.completion_tokens 3',
    ])
    expect(sequence!.turns[1]!.verified).toBe(false)
  })

  it('throw: UnverifiedRecordError, or spec TokenIdsUnavailableError for records without ids', () => {
    const builder = new TrajectoryBuilder({ unverified: 'throw' })
    const error = catchError(() => builder.add(bad))
    expect(UnverifiedRecordError.isInstance(error)).toBe(true)
    expect((error as UnverifiedRecordError).status).toBe('mismatch')
    expect((error as Error).message).toBe(
      'turn 0: token ids are not verified (status mismatch): completion ids 2 != usage.completion_tokens 3',
    )
    const noIds = unverified(recordOf([1], [2], { tokenIds: null }), 'unavailable', 'no ids')
    const unavailable = catchError(() => new TrajectoryBuilder({ unverified: 'throw' }).add(noIds))
    expect(TokenIdsUnavailableError.isInstance(unavailable)).toBe(true)
    expect((unavailable as Error).message).toBe('turn 0: the record has no token ids')
  })

  it('flag cannot include a record without ids: it is excluded and listed', () => {
    const noIds = unverified(recordOf([1], [2], { promptTokenIds: null }), 'unavailable', 'no ids')
    const trajectory = buildTrajectory([noIds], { unverified: 'flag' })
    expect(trajectory.sequences).toEqual([])
    expect(trajectory.excludedTurns).toEqual([
      { turnIndex: 0, status: 'unavailable', detail: 'the record has no token ids: no ids' },
    ])
  })
})

describe('buildTrajectory: logprobs and input checks', () => {
  it('drops a record whose logprobs do not align (non-strict) and marks logprobs incomplete', () => {
    const trajectory = buildTrajectory([recordOf(prompt1, response1, { logprobs: [-0.1] })])
    expect(trajectory.sequences[0]!.logprobs).toEqual([null, null, null, null, null, null, null])
    expect(trajectory.sequences[0]!.logprobsComplete).toBe(false)
  })

  it('strictLogprobs: throws before changing anything', () => {
    const builder = new TrajectoryBuilder({ strictLogprobs: true })
    const error = catchError(() => builder.add(recordOf(prompt1, response1, { logprobs: [-0.1] })))
    expect(LogprobLengthError.isInstance(error)).toBe(true)
    expect(builder.build().sequences).toEqual([])
    expect(builder.build().metrics.tokensInPerTurnRows).toBe(0)
  })

  it('rejects a record with malformed ids, naming the turn', () => {
    const error = catchError(() => buildTrajectory([recordOf(prompt1, [1, -1])]))
    expect(TokenInputError.isInstance(error)).toBe(true)
    expect((error as Error).message).toBe(
      'turn 0 response token ids[1] is -1, not a token id (an integer from 0 to 4294967295)',
    )
  })
})

describe('buildTrajectory: records that do not belong in one rollout', () => {
  it('rejects sibling choices of one n > 1 response with DuplicateResponseError, before changing anything', () => {
    const choice0 = recordOf(prompt1, response1, { responseId: 'chatcmpl-n2' })
    const choice1 = recordOf(prompt1, [6, 5, 101], { responseId: 'chatcmpl-n2', choiceIndex: 1 })
    const builder = new TrajectoryBuilder({ specialTokenIds })
    builder.add(choice0)
    const error = catchError(() => builder.add(choice1))
    expect(DuplicateResponseError.isInstance(error)).toBe(true)
    expect(error).toMatchObject({
      turnIndex: 1,
      earlierTurnIndex: 0,
      responseId: 'chatcmpl-n2',
      choiceIndex: 1,
      earlierChoiceIndex: 0,
    })
    expect((error as Error).message).toBe(
      'turn 1: the record is choice 1 of response chatcmpl-n2, whose choice 0 is turn 0; the choices of an n > 1 response are separate rollouts: build one trajectory per choiceIndex',
    )
    const { sequences, breaks, metrics } = builder.build()
    expect(sequences.map((sequence) => sequence.tokenIds)).toEqual([[...prompt1, ...response1]])
    expect(breaks).toEqual([])
    expect(metrics.tokensInPerTurnRows).toBe(prompt1.length + response1.length)
  })

  it('rejects a record added twice instead of training its tokens twice', () => {
    const [first] = cleanRollout()
    const builder = new TrajectoryBuilder({ specialTokenIds })
    builder.add(first!)
    const error = catchError(() => builder.add({ ...first! }))
    expect(DuplicateResponseError.isInstance(error)).toBe(true)
    expect((error as Error).message).toBe(
      `turn 1: the record repeats turn 0 (response ${first!.responseId}, choice 0, same ids); adding it again would train its tokens twice`,
    )
    expect(builder.build().sequences).toHaveLength(1)
  })

  it('accepts calls that reuse a response id with different ids (a proxy with constant ids) and records without one', () => {
    const records = cleanRollout().map((record) => ({ ...record, responseId: 'constant' }))
    expect(buildTrajectory(records, { specialTokenIds }).metrics.turnsMerged).toBe(2)
    const anonymous = cleanRollout().map((record) => ({ ...record, responseId: null, choiceIndex: 1 }))
    expect(buildTrajectory(anonymous, { specialTokenIds }).metrics.turnsMerged).toBe(2)
  })

  it('behind a proxy with one constant response id, still rejects a repeat of any earlier turn, not only the last', () => {
    const [first, second] = cleanRollout().map((record) => ({ ...record, responseId: 'constant' }))
    const builder = new TrajectoryBuilder({ specialTokenIds })
    builder.add(first!)
    builder.add(second!)
    const error = catchError(() => builder.add({ ...first! }))
    expect(DuplicateResponseError.isInstance(error)).toBe(true)
    expect(error).toMatchObject({ turnIndex: 2, earlierTurnIndex: 0, responseId: 'constant' })
    expect(builder.build().metrics.turnsMerged).toBe(1)
  })
})
