import { describe, expect, it } from 'vitest'
import { classifyPrefixBreak, QWEN3_SPECIAL_TOKEN_IDS, specialTokenSkeleton } from './classify-prefix-break'

// a tiny vocabulary: 100 = <|im_start|>, 101 = <|im_end|>, 102/103 = <think>/</think>
const specialTokenIds = new Set([100, 101, 102, 103])
const pieces: Record<number, string> = { 1: 'a', 2: 'b', 5: 'c', 6: 'd', 7: 'x' }
const tokenizer = {
  decode: (ids: readonly number[]) =>
    ids
      .map((id) => pieces[id] ?? ({ 100: '<s>', 101: '</s>', 102: '<t>', 103: '</t>' } as const)[id])
      .join(''),
}

describe('classifyPrefixBreak', () => {
  it('returns null when the prompt extends the context, or equals it (empty suffix)', () => {
    expect(classifyPrefixBreak([100, 1, 101], [100, 1, 101, 7], { specialTokenIds })).toBeNull()
    expect(classifyPrefixBreak([100, 1, 101], [100, 1, 101], { specialTokenIds })).toBeNull()
  })

  it('a shorter prompt whose structure simply ends early (trimmed history) is other, not template', () => {
    // context: system a, user c, assistant d; the next prompt starts over with user b: same skeleton up
    // to where the prompt ends, so the template did not change anything, the history did
    const context = [100, 1, 101, 100, 5, 101, 100, 6, 101]
    const prompt = [100, 2, 101, 100]
    expect(classifyPrefixBreak(context, prompt, { specialTokenIds })).toMatchObject({
      kind: 'other',
      driftIndex: 1,
      detail: 'same special-token structure, different ids; no tokenizer given to compare the decoded text',
    })
    expect(classifyPrefixBreak(context, prompt, { specialTokenIds, tokenizer })).toMatchObject({
      kind: 'other',
      detail: 'the decoded text differs from character 3: history was edited, trimmed or re-serialised',
    })
  })

  it('a shorter prompt that dropped a long think block is still template (break inside the response part)', () => {
    const context = [100, 1, 101, 100, 102, 5, 5, 5, 5, 5, 103, 6, 101]
    const prompt = [100, 1, 101, 100, 6, 101, 100, 7, 100]
    expect(prompt.length).toBeLessThan(context.length)
    expect(classifyPrefixBreak(context, prompt, { specialTokenIds })).toMatchObject({
      kind: 'template',
      driftIndex: 4,
    })
  })

  it('a prompt that is a proper prefix of the context is a retried or rewound call (other)', () => {
    expect(
      classifyPrefixBreak([100, 1, 101, 100, 5, 101], [100, 1, 101, 100], { specialTokenIds }),
    ).toMatchObject({ kind: 'other', driftIndex: 4 })
  })
})

describe('classifyPrefixBreak: what each class says', () => {
  it('a dropped think block: the special-token sequences differ, naming the position and both ids', () => {
    const context = [100, 1, 101, 100, 102, 5, 103, 6, 101]
    const prompt = [100, 1, 101, 100, 6, 101, 100, 7]
    expect(classifyPrefixBreak(context, prompt, { specialTokenIds })).toEqual({
      kind: 'template',
      driftIndex: 4,
      contextLength: 9,
      promptLength: 8,
      detail: 'special-token sequence differs at special token #3: context has id 102, prompt has id 101',
      contextExcerpt: null,
      promptExcerpt: null,
    })
  })

  it('a context skeleton that the prompt skeleton extends is no template change', () => {
    // same structure as far as the context goes; the ids differ inside a message
    const classification = classifyPrefixBreak([100, 1, 101], [100, 2, 101, 100, 7], { specialTokenIds })
    expect(classification).toMatchObject({
      kind: 'other',
      driftIndex: 1,
      detail: 'same special-token structure, different ids; no tokenizer given to compare the decoded text',
    })
  })

  it('without specialTokenIds no break is template, and the detail says so', () => {
    const context = [100, 1, 101, 100, 102, 5, 103, 6, 101]
    const prompt = [100, 1, 101, 100, 6, 101, 100, 7]
    expect(classifyPrefixBreak(context, prompt)).toMatchObject({
      kind: 'other',
      detail:
        'different ids; no tokenizer given to compare the decoded text; no specialTokenIds given, so a template change is not detected',
    })
    expect(classifyPrefixBreak(context, prompt, { tokenizer })).toMatchObject({
      kind: 'other',
      detail:
        'the decoded text differs from character 11: history was edited, trimmed or re-serialised; no specialTokenIds given, so a template change is not detected',
    })
  })

  it('same text in other ids is retokenization (needs a tokenizer)', () => {
    // "ab" sampled as 1 + 2, re-encoded by the server as 3
    const split: Record<number, string> = { 1: 'a', 2: 'b', 3: 'ab', 7: 'x' }
    const decode = (ids: readonly number[]) => ids.map((id) => split[id] ?? '?').join('')
    expect(classifyPrefixBreak([7, 1, 2], [7, 3, 7], { specialTokenIds, tokenizer: { decode } })).toEqual({
      kind: 'retokenization',
      driftIndex: 1,
      contextLength: 3,
      promptLength: 3,
      detail:
        'the decoded text still extends the previous context, but the ids differ from token 1: the server re-encoded sampled text',
      contextExcerpt: 'xab',
      promptExcerpt: 'xabx',
    })
  })

  it('the decoded text differs at the first differing character, or where the shorter text ends', () => {
    const split: Record<number, string> = { 1: 'a', 2: 'b', 3: 'ab', 5: 'c' }
    const decode = (ids: readonly number[]) => ids.map((id) => split[id] ?? '?').join('')
    const detail = (prompt: number[]) =>
      classifyPrefixBreak([1, 2, 5], prompt, { specialTokenIds, tokenizer: { decode } })!.detail
    // "abc" against "aba", "ab" (a prefix of the context text) and "c"
    const at = (character: number) =>
      `the decoded text differs from character ${character}: history was edited, trimmed or re-serialised`
    expect(detail([3, 1])).toBe(at(2))
    expect(detail([3])).toBe(at(2))
    expect(detail([5])).toBe(at(0))
  })

  it('a retried call names both lengths', () => {
    expect(classifyPrefixBreak([100, 1, 101, 100, 5, 101], [100, 1, 101, 100])).toMatchObject({
      kind: 'other',
      driftIndex: 4,
      contextLength: 6,
      promptLength: 4,
      detail: 'the prompt (4 tokens) ends inside the previous context (6 tokens): a retried or rewound call',
    })
  })

  it('excerpts decode 8 tokens before the drift and 24 from it, clipped at the start', () => {
    const decode = (ids: readonly number[]) => ids.join(',')
    const context = Array.from({ length: 40 }, (_, index) => index)
    const prompt = [...context.slice(0, 20), 99, ...context.slice(21)]
    const classification = classifyPrefixBreak(context, prompt, { tokenizer: { decode } })
    expect(classification!.contextExcerpt).toBe(context.slice(12, 44).join(','))
    expect(classification!.promptExcerpt).toBe(prompt.slice(12, 44).join(','))
    const early = classifyPrefixBreak(context, [0, 1, 99], { tokenizer: { decode } })
    expect(early!.contextExcerpt).toBe(context.slice(0, 26).join(','))
    expect(early!.promptExcerpt).toBe('0,1,99')
  })

  it('rejects unknown options and malformed ids', () => {
    expect(() => classifyPrefixBreak([1], [2], { specialTokenId: [1] } as never)).toThrow(
      /classifyPrefixBreak: unknown option `specialTokenId`/,
    )
    expect(() => classifyPrefixBreak([1, -1], [2])).toThrow(
      'context token ids[1] is -1, not a token id (an integer from 0 to 4294967295)',
    )
    expect(() => classifyPrefixBreak([1], 'x' as never)).toThrow(
      'prompt token ids is the string "x", not an array of token ids',
    )
  })
})

describe('specialTokenSkeleton', () => {
  it('keeps the special ids in order, repeats included', () => {
    expect(specialTokenSkeleton([100, 1, 101, 2, 100, 100], specialTokenIds)).toEqual([100, 101, 100, 100])
    expect(specialTokenSkeleton([1, 2], specialTokenIds)).toEqual([])
  })
})

describe('QWEN3_SPECIAL_TOKEN_IDS', () => {
  it('holds exactly the 26 added tokens 151643–151668', () => {
    expect(QWEN3_SPECIAL_TOKEN_IDS.size).toBe(26)
    expect([...QWEN3_SPECIAL_TOKEN_IDS].at(0)).toBe(151643)
    expect([...QWEN3_SPECIAL_TOKEN_IDS].at(-1)).toBe(151668)
    expect([151642, 151669].some((id) => QWEN3_SPECIAL_TOKEN_IDS.has(id))).toBe(false)
  })
})
