import { describe, expect, it } from 'vitest'
import { parseReply } from './parse-reply'

const call = (body: string) => `<tool_call>\n${body}\n</tool_call>`

describe('parseReply splits a raw completion as vLLM streams it on chat', () => {
  it('reasoning, then the text after </think>, whitespace kept', () => {
    expect(parseReply('<think>\nSimple.\n</think>\n\nHello!', true)).toEqual({
      reasoning: '\nSimple.\n',
      content: '\n\nHello!',
      toolCalls: [],
    })
    expect(parseReply('Hello!', true)).toEqual({ reasoning: null, content: 'Hello!', toolCalls: [] })
    expect(parseReply('<think></think>Hi', true)).toEqual({ reasoning: '', content: 'Hi', toolCalls: [] })
  })

  it('a reply cut inside the think block is all reasoning; without <think> the text before </think> is', () => {
    expect(parseReply('<think>\nStill thin', true)).toEqual({
      reasoning: '\nStill thin',
      content: '',
      toolCalls: [],
    })
    expect(parseReply('prefilled\n</think>\n\nDone', true)).toEqual({
      reasoning: 'prefilled\n',
      content: '\n\nDone',
      toolCalls: [],
    })
    // the parser partitions on <think>: what comes before it is dropped
    expect(parseReply('x<think>r</think>y', true)).toEqual({ reasoning: 'r', content: 'y', toolCalls: [] })
  })

  it('tool calls: content ends at the first call, arguments cut out raw, text after the calls dropped', () => {
    const text = `Let me check.\n${call('{"name": "search", "arguments": {"query": "a } in a string"}}')}\n${call('{"name":"clock","arguments":{}}')} trailing`
    expect(parseReply(text, true)).toEqual({
      reasoning: null,
      content: 'Let me check.\n',
      toolCalls: [
        { index: 0, name: 'search', rawArguments: '{"query": "a } in a string"}' },
        { index: 1, name: 'clock', rawArguments: '{}' },
      ],
    })
  })

  it('keeps invalid JSON as the model wrote it, and what a cut call holds so far', () => {
    expect(
      parseReply(call('{"name": "calculator", "arguments": {"expression": 12 * 7}}'), true).toolCalls,
    ).toEqual([{ index: 0, name: 'calculator', rawArguments: '{"expression": 12 * 7}' }])
    expect(
      parseReply('<tool_call>\n{"name": "calculator", "arguments": {"expression": "1', true).toolCalls,
    ).toEqual([{ index: 0, name: 'calculator', rawArguments: '{"expression": "1' }])
  })

  it('a call without "arguments" has none; a scalar value loses the outer brace; no name ends the calls', () => {
    expect(parseReply(call('{"name": "clock"}'), true).toolCalls).toEqual([
      { index: 0, name: 'clock', rawArguments: '' },
    ])
    expect(parseReply(call('{"name": "echo", "arguments": 5}'), true).toolCalls).toEqual([
      { index: 0, name: 'echo', rawArguments: '5' },
    ])
    const nameless = `${call('{"arguments": {}}')}${call('{"name": "clock", "arguments": {}}')}`
    expect(parseReply(`Hi ${nameless}`, true)).toEqual({ reasoning: null, content: 'Hi ', toolCalls: [] })
  })

  it('a call inside the reasoning is reasoning text, never a call; without tools the markup stays content', () => {
    const thought = `<think>\nMaybe ${call('{"name": "clock", "arguments": {}}')}?\n</think>\n\nNo call needed.`
    expect(parseReply(thought, true)).toEqual({
      reasoning: `\nMaybe ${call('{"name": "clock", "arguments": {}}')}?\n`,
      content: '\n\nNo call needed.',
      toolCalls: [],
    })
    const markup = call('{"name": "clock", "arguments": {}}')
    expect(parseReply(markup, false)).toEqual({ reasoning: null, content: markup, toolCalls: [] })
  })
})
