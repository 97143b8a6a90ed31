// Where vLLM itself answers a streaming and a non-streaming request for the same sampled tokens differently
// (mock-vllm imitates each): VLLMModel maps what the server sent, so the two modes differ exactly there.
import {
  Agent,
  MaxTokensError,
  ModelStreamUpdateEvent,
  NullConversationManager,
  TextBlock,
  ToolUseBlock,
  tool,
} from '@strands-agents/sdk'
import { type MockVllmOptions, type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import { extractTokenRecord, INVALID_JSON_ARGUMENTS_KEY, type TokenRecord } from '@vllm-tito/spec'
import { VLLMToolValidationHooks } from '@vllm-tito/validation/strands'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { VLLMModel } from '../vllm-model'
import type { VLLMModelConfig } from '../vllm-model-config'

const MODEL_ID = 'Qwen/Qwen3-8B'

const calculator = tool({
  name: 'calculator',
  description: 'Evaluates an arithmetic expression such as 2+2.',
  inputSchema: z.object({ expression: z.string() }).strict(),
  callback: () => '4',
})

const servers: MockVllmServer[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close()
})

async function run(
  mock: Omit<MockVllmOptions, 'model'>,
  config: Omit<VLLMModelConfig, 'modelId' | 'baseUrl'>,
): Promise<{ records: TokenRecord[]; outcome: unknown; agent: Agent }> {
  const server = await startMockVllm({ model: MODEL_ID, ...mock })
  servers.push(server)
  const model = new VLLMModel({ baseUrl: `${server.baseUrl}/v1`, modelId: MODEL_ID, ...config })
  const agent = new Agent({
    model,
    tools: [calculator],
    plugins: [new VLLMToolValidationHooks()],
    printer: false,
    conversationManager: new NullConversationManager(),
    retryStrategy: null,
  })
  const records: TokenRecord[] = []
  agent.addHook(ModelStreamUpdateEvent, (update) => {
    if (update.event.type !== 'modelMessageStopEvent') return
    const record = extractTokenRecord(update.event.additionalModelResponseFields)
    if (record !== undefined) records.push(record)
  })
  const outcome = await agent.invoke('What is 2+2?').catch((error: unknown) => error)
  return { records, outcome, agent }
}

describe('what vLLM sends differently without streaming', () => {
  it('hermes returns a call that is not JSON as text when not streaming; streaming, it is a call the hooks answer', async () => {
    const badCall = '<tool_call>\n{"name": "calculator", "arguments": {"expression": 2+2}}\n</tool_call>'
    const policy = { script: [badCall, 'Sorry, 4.'] }
    const streamed = await run({ policy }, { returnTokenIds: true })
    const fromBody = await run({ policy }, { returnTokenIds: true, stream: false })

    expect(streamed.records).toHaveLength(2)
    expect(streamed.agent.messages[1]?.content).toEqual([
      new ToolUseBlock({
        name: 'calculator',
        toolUseId: streamed.records[0]!.toolCalls[0]!.id!,
        input: { [INVALID_JSON_ARGUMENTS_KEY]: '{"expression": 2+2}' },
      }),
    ])
    expect(fromBody.records).toHaveLength(1)
    expect(fromBody.records[0]!.toolCalls).toEqual([])
    expect(fromBody.agent.messages[1]?.content).toEqual([new TextBlock(badCall)])
    // the ids are the same: only the parser's reading of them differs
    expect(fromBody.records[0]!.tokenIds).toEqual(streamed.records[0]!.tokenIds)
  })

  it('vLLM 0.10.2-0.11 drops the ids of parser-swallowed tokens only while streaming: the body gives them all', async () => {
    const policy = { script: ['<think>\nEasy.\n</think>\n\nThe answer is 4.'] }
    const streamed = await run({ mode: 'legacy-0.10', policy }, { returnTokenIds: true })
    const fromBody = await run({ mode: 'legacy-0.10', policy }, { returnTokenIds: true, stream: false })

    expect(streamed.records[0]!.verification.status).toBe('mismatch')
    expect(fromBody.records[0]!.verification.status).toBe('verified')
    expect(fromBody.records[0]!.tokenIds!.length).toBe(fromBody.records[0]!.usage!.completionTokens)
    expect(streamed.records[0]!.tokenIds!.length).toBeLessThan(fromBody.records[0]!.tokenIds!.length)
  })

  it('a length cut inside a call: a partial call while streaming, text without; both end in MaxTokensError', async () => {
    const call = '<tool_call>\n{"name": "calculator", "arguments": {"expression": "12+30"}}\n</tool_call>'
    const mock = { mode: 'legacy-0.10' as const, policy: { script: [call] } }
    const streamed = await run(mock, { maxTokens: 14 })
    const fromBody = await run(mock, { maxTokens: 14, stream: false })

    expect(streamed.outcome).toBeInstanceOf(MaxTokensError)
    expect(fromBody.outcome).toBeInstanceOf(MaxTokensError)
    expect(streamed.records[0]!.toolCalls[0]!.arguments).toBe('{"expression":')
    expect(fromBody.records[0]!.toolCalls).toEqual([])
    expect(fromBody.records[0]!.text).toBe('<tool_call>\n{"name": "calculator", "arguments": {"expression":')
    expect([streamed.records[0]!.finishReason, fromBody.records[0]!.finishReason]).toEqual([
      'length',
      'length',
    ])
  })
})
