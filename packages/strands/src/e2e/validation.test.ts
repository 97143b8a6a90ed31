// The validation hooks end to end: a real Agent with VLLMModel against mock-vllm over HTTP. The scripted model
// calls an unknown tool, then a known tool with a wrong argument, then one with malformed JSON; the next request
// the mock receives must carry the exact error texts in its tool messages.
import { Agent, NullConversationManager, tool } from '@strands-agents/sdk'
import { type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import type { ChatMessage } from '@vllm-tito/spec'
import { VLLMToolValidationHooks } from '@vllm-tito/validation/strands'
import { afterEach, describe, expect, it } from 'vitest'
import { VLLMModel } from '../vllm-model'

const MODEL_ID = 'Qwen/Qwen3-8B'
let server: MockVllmServer | undefined

afterEach(async () => {
  await server?.close()
  server = undefined
})

const executed: string[] = []
const calculator = tool({
  name: 'calculator',
  description: 'Evaluates an arithmetic expression.',
  inputSchema: {
    type: 'object',
    properties: { expression: { type: 'string' } },
    required: ['expression'],
    additionalProperties: false,
  },
  callback: (input) => {
    executed.push(JSON.stringify(input))
    return '4'
  },
})
const search = tool({
  name: 'search',
  description: 'Searches.',
  inputSchema: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
  callback: () => 'nothing',
})

const toolCall = (name: string, argumentsJson: string) =>
  `<tool_call>\n{"name": "${name}", "arguments": ${argumentsJson}}\n</tool_call>`

/** the tool messages of the `index`-th chat request the mock received */
function toolMessages(mock: MockVllmServer, index: number): ChatMessage[] {
  const request = mock.requests.filter((entry) => entry.path === '/v1/chat/completions')[index]
  if (request === undefined) throw new Error(`the mock received no chat request #${index}`)
  const messages = (request.body as { messages: ChatMessage[] }).messages
  return messages.filter((message) => message.role === 'tool')
}

describe('VLLMToolValidationHooks with VLLMModel against mock-vllm', () => {
  it('sends the exact error texts back to the model and never runs the bad calls', async () => {
    executed.length = 0
    server = await startMockVllm({
      model: MODEL_ID,
      policy: {
        script: [
          toolCall('fake_tool', '{}'),
          toolCall('calculator', '{"expression": "2+2", "invalid_param": 1}'),
          toolCall('calculator', '{"expression": 2+2}'),
          toolCall('calculator', '{"expression": "2+2"}'),
          'The answer is 4.',
        ],
      },
    })
    const hooks = new VLLMToolValidationHooks()
    const agent = new Agent({
      model: new VLLMModel({ baseUrl: server.baseUrl, modelId: MODEL_ID, returnTokenIds: true }),
      tools: [calculator, search],
      plugins: [hooks],
      printer: false,
      conversationManager: new NullConversationManager(),
      retryStrategy: null,
    })

    const result = await agent.invoke('What is 2+2?')

    expect(String(result)).toContain('The answer is 4.')
    expect(toolMessages(server, 1).map((message) => message.content)).toEqual([
      'Error: unknown tool: fake_tool | allowed_tools=[calculator, search]',
    ])
    expect(toolMessages(server, 2).at(-1)?.content).toBe(
      'Error: tool_name=<calculator> | unknown argument(s): invalid_param',
    )
    expect(toolMessages(server, 3).at(-1)?.content).toBe(
      'Error: tool_name=<calculator> | tool input is not valid JSON',
    )
    expect(toolMessages(server, 4).at(-1)?.content).toBe('4')
    expect(executed).toEqual(['{"expression":"2+2"}'])
    expect(hooks.totals).toMatchObject({ unknown: 1, invalid: 2 })
  })
})
