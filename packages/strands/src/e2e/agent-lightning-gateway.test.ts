// VLLMModel in an Agent through the Agent Lightning 1.0 gateway stand-in, in front of mock-vllm, with the
// per-rollout base URL the controller hands out (a path prefix before /v1): streaming is refused with a
// message that says what to do, and `stream: false` goes through with the ids the gateway records.
import { Agent, ModelError, ModelStreamUpdateEvent, NullConversationManager, tool } from '@strands-agents/sdk'
import { type MockAgentLightningServer, startMockAgentLightning } from '@vllm-tito/mock-agent-lightning'
import { type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import { extractTokenRecord, StreamingUnsupportedError, type TokenRecord } from '@vllm-tito/spec'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { VLLMModel } from '../vllm-model'

const KEY = 'gateway-key'
const CALL = '<tool_call>\n{"name": "calculator", "arguments": {"expression": "2+3"}}\n</tool_call>'

const calculator = tool({
  name: 'calculator',
  description: 'Evaluates an arithmetic expression such as 2+3.',
  inputSchema: z.object({ expression: z.string() }).strict(),
  callback: () => '5',
})

let vllm: MockVllmServer
let gateway: MockAgentLightningServer

beforeAll(async () => {
  vllm = await startMockVllm({ policy: { script: [CALL, 'It is 5.'] } })
  gateway = await startMockAgentLightning({
    key: KEY,
    models: [{ model: 'Qwen/Qwen3-8B', endpoint: `${vllm.baseUrl}/v1` }],
  })
})

afterAll(async () => {
  await gateway.close()
  await vllm.close()
})

async function rolloutAgent(stream: boolean) {
  const created = await fetch(`${gateway.url}/api/rollouts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify([{ input: { question: 'What is 2+3?' } }]),
  })
  const rolloutId = ((await created.json()) as Array<{ rollout_id: string }>)[0]!.rollout_id
  const environment = gateway.agentEnvironment(rolloutId)
  // the gateway replaces the model name, so any placeholder does
  const model = new VLLMModel({
    baseUrl: environment.AGL_OPENAI_BASE_URL,
    apiKey: environment.AGL_KEY,
    modelId: 'policy',
    returnTokenIds: true,
    stream,
  })
  const agent = new Agent({
    model,
    tools: [calculator],
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
  return { agent, records, rolloutId }
}

describe('VLLMModel through the Agent Lightning gateway', () => {
  it('streaming is refused with a ModelError that says to set stream: false', async () => {
    const { agent, records, rolloutId } = await rolloutAgent(true)
    const error = await agent.invoke('What is 2+3?').catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ModelError)
    expect((error as Error).message).toBe(
      "the server refuses streaming calls (HTTP 400 from /v1/chat/completions); set `stream: false` on VLLMModel (new VLLMModel({ …, stream: false })), as Agent Lightning's gateway requires",
    )
    expect(StreamingUnsupportedError.isInstance((error as Error).cause)).toBe(true)
    expect(records).toEqual([])
    expect(gateway.events(rolloutId)).toEqual([])
  })

  it('stream: false runs the tool loop; the records hold exactly the ids the gateway stored', async () => {
    const { agent, records, rolloutId } = await rolloutAgent(false)
    const result = await agent.invoke('What is 2+3?')
    expect(result.stopReason).toBe('endTurn')
    const stored = gateway
      .events(rolloutId)
      .filter((event) => event.event_type === 'model_request')
      .map((event) => event.data as { request: Record<string, unknown>; response: Record<string, unknown> })
    expect(stored).toHaveLength(2)
    expect(records).toHaveLength(2)
    for (const [index, { request, response }] of stored.entries()) {
      expect(request).toMatchObject({ model: 'Qwen/Qwen3-8B', stream: false, return_token_ids: true })
      const choice = (response.choices as Array<{ token_ids: number[] }>)[0]!
      expect(records[index]!.promptTokenIds).toEqual(response.prompt_token_ids)
      expect(records[index]!.tokenIds).toEqual(choice.token_ids)
      expect(records[index]!.verification.status).toBe('verified')
    }
    const proxied = gateway.requests.filter((request) => request.url.includes(`/proxy/rollout/${rolloutId}/`))
    expect(proxied.map((request) => request.url)).toEqual([
      `/proxy/rollout/${rolloutId}/attempt/0/mode/train/openai/v1/chat/completions`,
      `/proxy/rollout/${rolloutId}/attempt/0/mode/train/openai/v1/chat/completions`,
    ])
    const [first, second] = records as [TokenRecord, TokenRecord]
    const previous = [...first.promptTokenIds!, ...first.tokenIds!]
    expect(second.promptTokenIds!.slice(0, previous.length)).toEqual(previous)
  })
})
