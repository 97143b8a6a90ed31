// Records made in token-in mode carry `tokenIn`: the builder reports what they say next to its own prefix
// check, and places every turn by the ids alone.
import type { TokenInPrompt, TokenRecord } from '@vllm-tito/spec'
import { makeRecord } from '@vllm-tito/spec/testing'
import { describe, expect, it } from 'vitest'
import { QWEN3_SPECIAL_TOKEN_IDS } from './classify-prefix-break'
import { buildTrajectory } from './trajectory-builder'

const IM_START = 151644
const IM_END = 151645
const NEWLINE = 198

function record(
  responseId: string,
  promptTokenIds: number[],
  tokenIds: number[],
  tokenIn: TokenInPrompt,
): TokenRecord {
  const count = { promptIdsCount: promptTokenIds.length, usagePromptTokens: promptTokenIds.length }
  return makeRecord({
    kind: 'completion',
    responseId,
    promptTokenIds,
    tokenIds,
    usage: {
      promptTokens: promptTokenIds.length,
      completionTokens: tokenIds.length,
      totalTokens: promptTokenIds.length + tokenIds.length,
    },
    verification: {
      status: 'verified',
      verified: true,
      ...count,
      completionIdsCount: tokenIds.length,
      usageCompletionTokens: tokenIds.length,
      issues: [],
    },
    tokenIn,
  })
}

const firstPrompt = [IM_START, 872, 198, 13048, IM_END, NEWLINE, IM_START, 77091, 198]
const first = record('cmpl-1', firstPrompt, [9707, IM_END], {
  mode: 'rendered',
  renderReason: 'first-call',
  detail: null,
  keptLength: 0,
  segments: [],
})
const kept = [...firstPrompt, 9707, IM_END]
// separator, a user turn, separator, generation prompt
const appendedIds = [NEWLINE, IM_START, 872, 198, 5017, IM_END, NEWLINE, IM_START, 77091, 198]
const appended: TokenInPrompt = {
  mode: 'appended',
  renderReason: null,
  detail: null,
  keptLength: kept.length,
  segments: [
    { kind: 'separator', start: 11, end: 12, roles: [] },
    { kind: 'messages', start: 12, end: 17, roles: ['user'] },
    { kind: 'separator', start: 17, end: 18, roles: [] },
    { kind: 'generation-prompt', start: 18, end: 21, roles: [] },
  ],
}

describe('token-in records in the trajectory builder', () => {
  it('an appended prompt merges by prefix; its segments become sequence offsets, all with loss mask 0', () => {
    const second = record('cmpl-2', [...kept, ...appendedIds], [3838, IM_END], appended)
    const trajectory = buildTrajectory([first, second], { specialTokenIds: QWEN3_SPECIAL_TOKEN_IDS })
    expect(trajectory.metrics.sequences).toBe(1)
    const [sequence] = trajectory.sequences
    expect(sequence!.turns[0]!.tokenInSegments).toBeUndefined()
    const segments = sequence!.turns[1]!.tokenInSegments!
    expect(segments.map((segment) => [segment.kind, segment.start, segment.end])).toEqual([
      ['separator', 11, 12],
      ['messages', 12, 17],
      ['separator', 17, 18],
      ['generation-prompt', 18, 21],
    ])
    expect(sequence!.tokenIds.slice(12, 17)).toEqual([IM_START, 872, 198, 5017, IM_END])
    expect(sequence!.lossMask.slice(11, 21)).toEqual(Array(10).fill(0))
    expect(sequence!.lossMask.slice(21)).toEqual([1, 1])
  })

  it('checks the ids, not the claim: an "appended" record whose prompt does not extend the turn is a break', () => {
    const tampered = [...kept.slice(0, -1), NEWLINE, ...appendedIds]
    const second = record('cmpl-2', tampered, [3838, IM_END], appended)
    const trajectory = buildTrajectory([first, second], { specialTokenIds: QWEN3_SPECIAL_TOKEN_IDS })
    expect(trajectory.metrics.sequences).toBe(2)
    expect(trajectory.breaks).toHaveLength(1)
    expect(trajectory.breaks[0]!.tokenIn).toBe('appended')
    expect(trajectory.breaks[0]!.detail).toMatch(
      /^the record says token-in mode appended to the previous turn, but its prompt ids do not extend it: /,
    )
  })

  it('a re-rendered prompt that breaks the prefix reports the reason the record gives', () => {
    const rendered = record(
      'cmpl-2',
      [IM_START, 872, 198, 5017, IM_END, NEWLINE, IM_START, 77091, 198],
      [3838, IM_END],
      {
        mode: 'rendered',
        renderReason: 'history-changed',
        detail: 'message 0 differs from the one the kept sequence holds',
        keptLength: 0,
        segments: [],
      },
    )
    const trajectory = buildTrajectory([first, rendered])
    expect(trajectory.breaks.map((finding) => finding.tokenIn)).toEqual(['history-changed'])
    expect(trajectory.breaks[0]!.detail).toMatch(
      /^token-in mode rendered this prompt from scratch: history-changed \(message 0 differs from the one the kept sequence holds\); /,
    )
    expect(trajectory.sequences.map((sequence) => sequence.turns.length)).toEqual([1, 1])
  })
})
