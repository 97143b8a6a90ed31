import { describe, expect, it } from 'vitest'
import { correctFinishReason, type FinishFacts } from './finish-reason'

/** vLLM 0.10.2's case: `tool_calls` on a choice cut at exactly `max_tokens` inside its call's arguments. */
const cut: FinishFacts = {
  reported: 'tool_calls',
  maxTokens: 8,
  generatedTokens: 8,
  lastToolArguments: '{"a": ',
}

describe('correctFinishReason', () => {
  it('reads tool_calls as length when exactly max_tokens were generated and the arguments are cut-off JSON', () => {
    expect(correctFinishReason(cut)).toBe('length')
  })

  it('keeps tool_calls when any one fact of the cut is missing', () => {
    expect(correctFinishReason({ ...cut, maxTokens: null })).toBe('tool_calls')
    // no max_tokens and no count known: still no cut
    expect(correctFinishReason({ ...cut, maxTokens: null, generatedTokens: null })).toBe('tool_calls')
    expect(correctFinishReason({ ...cut, generatedTokens: 7 })).toBe('tool_calls')
    expect(correctFinishReason({ ...cut, generatedTokens: null })).toBe('tool_calls')
    expect(correctFinishReason({ ...cut, lastToolArguments: '{"a": 1}' })).toBe('tool_calls')
    // a call without arguments (hermes' parameterless quirk) or no call at all is no cut-off JSON
    expect(correctFinishReason({ ...cut, lastToolArguments: '' })).toBe('tool_calls')
    expect(correctFinishReason({ ...cut, lastToolArguments: null })).toBe('tool_calls')
  })

  it('passes every other reason through, even with cut-off arguments at max_tokens', () => {
    for (const reported of ['stop', 'length', 'abort', 'something-new']) {
      expect(correctFinishReason({ ...cut, reported })).toBe(reported)
    }
  })
})
