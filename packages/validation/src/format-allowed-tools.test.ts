import { InvalidOptionError } from '@vllm-tito/spec'
import { describe, expect, it } from 'vitest'
import { formatAllowedTools, formatUnknownToolError } from './format-allowed-tools'

describe('formatAllowedTools', () => {
  it('lists every name, in the given order, when within the limit', () => {
    expect(formatAllowedTools(['search', 'calculator'])).toBe('[search, calculator]')
    expect(formatAllowedTools([])).toBe('[]')
    expect(formatAllowedTools(['a', 'b'], 2)).toBe('[a, b]')
  })

  it('cuts the list at the limit with the count of the rest', () => {
    expect(formatAllowedTools(['a', 'b', 'c', 'd'], 2)).toBe('[a, b, ... (+2 more)]')
    expect(formatAllowedTools(['a', 'b'], 0)).toBe('[... (+2 more)]')
    const thirty = Array.from({ length: 30 }, (_, index) => `tool_${index}`)
    expect(formatAllowedTools(thirty)).toBe(`[${thirty.slice(0, 25).join(', ')}, ... (+5 more)]`)
  })

  it('rejects a limit that is not a non-negative integer', () => {
    expect(() => formatAllowedTools(['a'], 1.5)).toThrow(
      'formatAllowedTools: option `maxAllowedToolsInError` must be an integer >= 0, got 1.5',
    )
    expect(() => formatAllowedTools(['a'], Number.NaN)).toThrow(InvalidOptionError)
    expect(() => formatUnknownToolError('x', [], { maxAllowedTools: 3 } as never)).toThrow(
      'formatUnknownToolError: unknown option `maxAllowedTools`',
    )
  })
})

describe('formatUnknownToolError', () => {
  it('gives the strands-vllm text with and without the allowed tools', () => {
    expect(formatUnknownToolError('fake_tool', ['calculator', 'search'])).toBe(
      'Error: unknown tool: fake_tool | allowed_tools=[calculator, search]',
    )
    expect(
      formatUnknownToolError('fake_tool', ['calculator', 'search', 'weather'], { maxAllowedToolsInError: 2 }),
    ).toBe('Error: unknown tool: fake_tool | allowed_tools=[calculator, search, ... (+1 more)]')
    expect(formatUnknownToolError('fake_tool', ['calculator'], { includeAllowedToolsInErrors: false })).toBe(
      'Error: unknown tool: fake_tool',
    )
  })
})
