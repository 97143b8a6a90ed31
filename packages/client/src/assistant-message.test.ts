import type { ToolCallRecord } from '@vllm-tito/spec'
import { makeRecord } from '@vllm-tito/spec/testing'
import { describe, expect, it } from 'vitest'
import { formatAssistantTurn, toAssistantMessage } from './assistant-message'

const call = (overrides: Partial<ToolCallRecord> = {}): ToolCallRecord => ({
  index: 0,
  id: 'chatcmpl-tool-a1',
  name: 'calculator',
  arguments: '{"expression": "21 * 2"}',
  ...overrides,
})

describe('toAssistantMessage', () => {
  it('sends reasoning under both names, drops the template-written newlines, keeps the raw arguments', () => {
    const record = makeRecord({
      text: '\n\nLet me compute.\n',
      reasoning: '\nThe user wants 21 * 2.\n',
      toolCalls: [call(), call({ index: 1, id: 'chatcmpl-tool-b2', arguments: '{"expression":"1+1"  }' })],
    })
    expect(toAssistantMessage(record)).toEqual({
      role: 'assistant',
      content: 'Let me compute.',
      reasoning: '\nThe user wants 21 * 2.\n',
      reasoning_content: '\nThe user wants 21 * 2.\n',
      tool_calls: [
        {
          id: 'chatcmpl-tool-a1',
          type: 'function',
          function: { name: 'calculator', arguments: '{"expression": "21 * 2"}' },
        },
        {
          id: 'chatcmpl-tool-b2',
          type: 'function',
          function: { name: 'calculator', arguments: '{"expression":"1+1"  }' },
        },
      ],
    })
  })

  it('leaves text without reasoning or tool calls exactly as it is, with no reasoning or tool_calls keys', () => {
    expect(toAssistantMessage(makeRecord({ text: '\nHello!\n' }))).toEqual({
      role: 'assistant',
      content: '\nHello!\n',
    })
  })

  it('removes only one trailing newline before tool calls, and no leading newline without reasoning', () => {
    const message = toAssistantMessage(makeRecord({ text: '\nCalling.\n\n', toolCalls: [call()] }))
    expect(message.content).toBe('\nCalling.\n')
    expect(message).not.toHaveProperty('reasoning')
  })

  it('names a call the server gave no id after its index', () => {
    const message = toAssistantMessage(makeRecord({ text: '', toolCalls: [call({ index: 3, id: null })] }))
    expect(message.tool_calls?.map((toolCall) => toolCall.id)).toEqual(['call-3'])
  })

  it.each([
    ['malformed JSON', '{"expression": "2+'],
    ['an array', '[1, 2]'],
    ['a number', '42'],
    ['an empty string', ''],
  ])('sends {} for arguments that are %s', (_kind, raw) => {
    const message = toAssistantMessage(makeRecord({ text: '', toolCalls: [call({ arguments: raw })] }))
    expect(message.tool_calls?.[0]?.function.arguments).toBe('{}')
  })

  it('sends an empty reasoning under both names too: the turn had a think block', () => {
    expect(toAssistantMessage(makeRecord({ text: '\n\nHi', reasoning: '' }))).toEqual({
      role: 'assistant',
      content: 'Hi',
      reasoning: '',
      reasoning_content: '',
    })
  })
})

describe('formatAssistantTurn', () => {
  it('copies the tool calls, so the message does not share the caller array', () => {
    const toolCalls = [
      { id: 'x', type: 'function' as const, function: { name: 'calculator', arguments: '{}' } },
    ]
    const message = formatAssistantTurn({ text: 'ok', reasoning: null, toolCalls })
    expect(message.tool_calls).toEqual(toolCalls)
    expect(message.tool_calls).not.toBe(toolCalls)
  })
})
