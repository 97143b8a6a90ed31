import {
  JsonBlock,
  Message,
  ModelError,
  ReasoningBlock,
  TextBlock,
  ToolResultBlock,
  ToolUseBlock,
} from '@strands-agents/sdk'
import { INVALID_JSON_ARGUMENTS_KEY, toResponseFields } from '@vllm-tito/spec'
import { makeRecord } from '@vllm-tito/spec/testing'
import { describe, expect, it } from 'vitest'
import { formatChatMessages } from './format-chat-messages'

function assistant(
  content: ConstructorParameters<typeof Message>[0]['content'],
  record?: ReturnType<typeof makeRecord>,
) {
  return new Message({
    role: 'assistant',
    content,
    ...(record !== undefined && { metadata: { custom: { vllm: toResponseFields(record) as never } } }),
  })
}

describe('formatChatMessages', () => {
  it('sends the system prompt, user text joined by newlines, and untrimmed assistant text', () => {
    const messages = [
      new Message({ role: 'user', content: [new TextBlock('first'), new TextBlock('second ')] }),
      assistant([new TextBlock('  spaced answer\n')]),
    ]
    expect(formatChatMessages(messages, 'Be brief.')).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'first\nsecond ' },
      { role: 'assistant', content: '  spaced answer\n' },
    ])
  })

  it('echoes reasoning under both names, reasoning and reasoning_content, and the raw arguments the model produced', () => {
    const record = makeRecord({
      text: '\n\nLet me add.\n',
      reasoning: 'I should add.',
      toolCalls: [
        { index: 0, id: 'call-a', name: 'calculator', arguments: '{"expression":  "2+2"}' },
        { index: 1, id: null, name: 'calculator', arguments: '{"expression": "3*3"}' },
      ],
    })
    const message = assistant(
      [
        new ReasoningBlock({ text: 'I should add.' }),
        new TextBlock('\n\nLet me add.\n'),
        new ToolUseBlock({ name: 'calculator', toolUseId: 'call-a', input: { expression: '2+2' } }),
        new ToolUseBlock({
          name: 'calculator',
          toolUseId: 'chatcmpl-1-tool-1',
          input: { expression: '3*3' },
        }),
      ],
      record,
    )
    expect(formatChatMessages([message])).toEqual([
      {
        role: 'assistant',
        // Qwen3's template writes `</think>\n\n` and the `\n` before `<tool_call>` itself
        content: 'Let me add.',
        reasoning: 'I should add.',
        reasoning_content: 'I should add.',
        tool_calls: [
          {
            id: 'call-a',
            type: 'function',
            function: { name: 'calculator', arguments: '{"expression":  "2+2"}' },
          },
          {
            id: 'chatcmpl-1-tool-1',
            type: 'function',
            function: { name: 'calculator', arguments: '{"expression": "3*3"}' },
          },
        ],
      },
    ])
  })

  it('restores whitespace-only text the SDK dropped, unless the template writes it itself', () => {
    const spaceOnly = assistant([], makeRecord({ text: ' \n' }))
    const beforeCall = assistant(
      [new ToolUseBlock({ name: 'calculator', toolUseId: 'call-a', input: {} })],
      makeRecord({
        text: '\n',
        toolCalls: [{ index: 0, id: 'call-a', name: 'calculator', arguments: '{}' }],
      }),
    )
    expect(formatChatMessages([spaceOnly, beforeCall])).toEqual([
      { role: 'assistant', content: ' \n' },
      {
        role: 'assistant',
        content: '',
        tool_calls: [{ id: 'call-a', type: 'function', function: { name: 'calculator', arguments: '{}' } }],
      },
    ])
  })

  it('sends {} for arguments that are not a JSON object, the raw text otherwise, and re-serialises replaced input', () => {
    const record = makeRecord({
      text: '',
      toolCalls: [
        { index: 0, id: 'call-a', name: 'calculator', arguments: '{"expression": "2+2"}' },
        { index: 1, id: 'call-b', name: 'calculator', arguments: '{"expression": 2+' },
        { index: 2, id: 'call-c', name: 'calculator', arguments: '{"expression":  "3*3"}' },
        { index: 3, id: 'call-d', name: 'calculator', arguments: '[1, 2]' },
      ],
    })
    const message = assistant(
      [
        new ToolUseBlock({ name: 'calculator', toolUseId: 'call-a', input: { expression: '5+5' } }),
        new ToolUseBlock({
          name: 'calculator',
          toolUseId: 'call-b',
          input: { [INVALID_JSON_ARGUMENTS_KEY]: '{"expression": 2+' },
        }),
        new ToolUseBlock({ name: 'calculator', toolUseId: 'call-c', input: { expression: '3*3' } }),
        new ToolUseBlock({ name: 'calculator', toolUseId: 'call-d', input: [1, 2] }),
      ],
      record,
    )
    expect(formatChatMessages([message])[0]?.tool_calls?.map((call) => call.function.arguments)).toEqual([
      '{"expression":"5+5"}',
      '{}',
      '{"expression":  "3*3"}',
      '{}',
    ])
  })

  it('sends tool results first, without an error prefix, text and JSON content concatenated', () => {
    const message = new Message({
      role: 'user',
      content: [
        new ToolResultBlock({
          toolUseId: 'call-a',
          status: 'success',
          content: [new JsonBlock({ json: { value: 4 } })],
        }),
        new ToolResultBlock({
          toolUseId: 'call-b',
          status: 'error',
          content: [new TextBlock('Error: tool_name=<calculator> | tool input is not valid JSON')],
        }),
        new ToolResultBlock({ toolUseId: 'call-c', status: 'success', content: [] }),
        new TextBlock('and now?'),
      ],
    })
    expect(formatChatMessages([message])).toEqual([
      { role: 'tool', tool_call_id: 'call-a', content: '{"value":4}' },
      {
        role: 'tool',
        tool_call_id: 'call-b',
        content: 'Error: tool_name=<calculator> | tool input is not valid JSON',
      },
      { role: 'tool', tool_call_id: 'call-c', content: '' },
      { role: 'user', content: 'and now?' },
    ])
  })

  it('rejects content vLLM chat cannot take with a ModelError naming the block', () => {
    const message = new Message({
      role: 'user',
      content: [new ReasoningBlock({ text: 'not for users' })],
    })
    expect(() => formatChatMessages([message])).toThrow(ModelError)
    expect(() => formatChatMessages([message])).toThrow(
      'VLLMModel cannot send a reasoningBlock in a user message: only text, reasoning, tool-use, tool-result (text or JSON) and cache-point blocks are supported',
    )
  })

  it('drops an empty system prompt and keeps one made of text blocks', () => {
    expect(formatChatMessages([], '')).toEqual([])
    expect(formatChatMessages([], [new TextBlock('a'), new TextBlock('b')])).toEqual([
      { role: 'system', content: 'ab' },
    ])
  })
})
