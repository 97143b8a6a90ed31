// The delta of new messages against the real Qwen3 template (mock-vllm's /tokenize over HTTP): tool results
// give the same ids after the shared fixed prefix as after a prefix that calls the tools, and a template that
// re-renders its prefix around the new messages gives no delta.
import { VLLMClient } from '@vllm-tito/client'
import { type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import type { ChatMessage, RenderedChatTemplate } from '@vllm-tito/spec'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DeltaRequest, renderDelta } from './render-delta'

let server: MockVllmServer
beforeAll(async () => {
  server = await startMockVllm()
})
afterAll(async () => {
  await server.close()
})

const results: ChatMessage[] = [
  { role: 'tool', tool_call_id: 'cmpl-1-tool-0', content: '84' },
  { role: 'tool', tool_call_id: 'cmpl-1-tool-1', content: '7' },
  { role: 'user', content: 'Thanks. And 2 + 2?' },
]

function request(toolResultsStandAlone: boolean): DeltaRequest {
  const client = new VLLMClient({ baseUrl: server.baseUrl })
  const render = (messages: ChatMessage[], addGenerationPrompt: boolean) =>
    client.tokenize({ messages, addGenerationPrompt, chatTemplateKwargs: { enable_thinking: false } })
  return {
    render,
    renderPrefix: (prefix) => render(prefix, false),
    shape: { endOfTurnId: 151645, separatorIds: [198], toolResultsStandAlone },
    keptIds: [151644, 77091, 198, 9707, 151645],
    newMessages: results,
    toolNames: new Map([
      ['cmpl-1-tool-0', 'calculator'],
      ['cmpl-1-tool-1', 'calculator'],
    ]),
  }
}

describe('renderDelta', () => {
  it('tool results render alike after the fixed prefix and after their call; a user turn follows', async () => {
    const standAlone = await renderDelta(request(true))
    const afterCall = await renderDelta(request(false))
    expect(afterCall).toEqual(standAlone)
    if (standAlone.kind !== 'appended') throw new Error(standAlone.detail)
    const { ids, segments } = standAlone.appended
    const text = (start: number, end: number) => server.tokenizer.decode(ids.slice(start, end))
    expect(
      segments.map((segment) => [segment.kind, segment.roles, text(segment.start, segment.end)]),
    ).toEqual([
      ['separator', [], '\n'],
      [
        'messages',
        ['tool', 'tool'],
        '<|im_start|>user\n<tool_response>\n84\n</tool_response>\n<tool_response>\n7\n</tool_response><|im_end|>',
      ],
      ['separator', [], '\n'],
      ['messages', ['user'], '<|im_start|>user\nThanks. And 2 + 2?<|im_end|>'],
      ['separator', [], '\n'],
      ['generation-prompt', [], '<|im_start|>assistant\n<think>\n\n</think>\n\n'],
    ])
  })

  it('gives no delta when rendering the messages changes how the prefix renders', async () => {
    const base = request(true)
    const rewriting = async (
      messages: ChatMessage[],
      addGenerationPrompt: boolean,
    ): Promise<RenderedChatTemplate> => {
      const rendered = await base.render(messages, addGenerationPrompt)
      // a template that rewrites its first turn once more messages follow
      return messages.length > 2 ? { ...rendered, tokenIds: [1, ...rendered.tokenIds] } : rendered
    }
    expect(await renderDelta({ ...base, render: rewriting })).toEqual({
      kind: 'not-append-only',
      detail: 'rendering the tool, tool messages after a fixed prefix changes how the prefix renders',
    })
  })
})
