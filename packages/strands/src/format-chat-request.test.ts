import { Message, TextBlock } from '@strands-agents/sdk'
import { describe, expect, it } from 'vitest'
import { formatChatRequest } from './format-chat-request'

const messages = [new Message({ role: 'user', content: [new TextBlock('hi')] })]
const toolSpecs = [
  {
    name: 'calculator',
    description: 'Evaluates an arithmetic expression.',
    inputSchema: { type: 'object' as const, properties: { expression: { type: 'string' as const } } },
  },
]

describe('formatChatRequest', () => {
  it('sends return_token_ids false by default, as strands-vllm does', () => {
    expect(formatChatRequest({ modelId: 'm' }, messages, undefined)).toEqual({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      return_token_ids: false,
    })
  })

  it('merges params and a Python-style extra_body; typed config and owned fields win', () => {
    const request = formatChatRequest(
      {
        modelId: 'm',
        returnTokenIds: true,
        maxTokens: 64,
        temperature: 0.2,
        topP: 0.9,
        params: {
          top_k: 20,
          max_tokens: 1,
          model: 'ignored',
          extra_body: { chat_template_kwargs: { enable_thinking: false }, top_k: 5 },
        },
      },
      messages,
      { toolSpecs, toolChoice: { any: {} } },
    )
    expect(request).toEqual({
      top_k: 5,
      max_tokens: 64,
      chat_template_kwargs: { enable_thinking: false },
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      return_token_ids: true,
      temperature: 0.2,
      top_p: 0.9,
      tools: [
        {
          type: 'function',
          function: {
            name: 'calculator',
            description: 'Evaluates an arithmetic expression.',
            parameters: toolSpecs[0]!.inputSchema,
          },
        },
      ],
      tool_choice: 'required',
    })
  })

  it('honours return_token_ids asked for in params', () => {
    const request = formatChatRequest(
      { modelId: 'm', params: { return_token_ids: true } },
      messages,
      undefined,
    )
    expect(request.return_token_ids).toBe(true)
  })

  it('maps tool choices', () => {
    const auto = formatChatRequest({ modelId: 'm' }, messages, { toolSpecs, toolChoice: { auto: {} } })
    const named = formatChatRequest({ modelId: 'm' }, messages, {
      toolSpecs,
      toolChoice: { tool: { name: 'calculator' } },
    })
    expect(auto.tool_choice).toBe('auto')
    expect(named.tool_choice).toEqual({ type: 'function', function: { name: 'calculator' } })
  })

  it('sends no tools or tool_choice with disableTools, even from params', () => {
    const request = formatChatRequest(
      { modelId: 'm', disableTools: true, params: { tools: [], tool_choice: 'auto' } },
      messages,
      { toolSpecs, toolChoice: { auto: {} } },
    )
    expect(request).toEqual({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      return_token_ids: false,
    })
  })
})
