import { describe, expect, it } from 'vitest'
import { classifyPrefixBreak } from './classify-prefix-break'

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
