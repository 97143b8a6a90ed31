// A model's malformed tool-call JSON, replayed by VLLMModel verbatim on the next call, against each vLLM
// generation's input side: vLLM parses replayed arguments before rendering (`_postprocess_messages` in
// vllm/entrypoints/chat_utils.py), so what the next call gets depends on the version.
import { Agent, ModelError, ModelStreamUpdateEvent, NullConversationManager, tool } from '@strands-agents/sdk'
import { type MockVllmMode, type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import { APICallError, extractTokenRecord, type TokenRecord } from '@vllm-tito/spec'
import { VLLMToolValidationHooks } from '@vllm-tito/validation/strands'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { VLLMModel } from '../vllm-model'

const MODEL_ID = 'Qwen/Qwen3-8B'
const BAD_CALL = '<tool_call>\n{"name": "calculator", "arguments": {"expression": 2+2}}\n</tool_call>'

const calculator = tool({
  name: 'calculator',
  description: 'Evaluates an arithmetic expression such as 2+2.',
  inputSchema: z.object({ expression: z.string() }).strict(),
  callback: () => '4',
})

let server: MockVllmServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

async function runBadCall(mode: MockVllmMode) {
  server = await startMockVllm({ mode, model: MODEL_ID, policy: { script: [BAD_CALL, 'Sorry, 4.'] } })
  const agent = new Agent({
    model: new VLLMModel({ baseUrl: `${server.baseUrl}/v1`, modelId: MODEL_ID, returnTokenIds: true }),
    tools: [calculator],
    plugins: [new VLLMToolValidationHooks()],
    printer: false,
    conversationManager: new NullConversationManager(),
    retryStrategy: null,
  })
  const records: TokenRecord[] = []
  agent.addHook(ModelStreamUpdateEvent, (event) => {
    if (event.event.type !== 'modelMessageStopEvent') return
    const record = extractTokenRecord(event.event.additionalModelResponseFields)
    if (record !== undefined) records.push(record)
  })
  const outcome = await agent.invoke('What is 2+2?').catch((error: unknown) => error)
  return { outcome, records, mock: server }
}

describe('malformed tool-call JSON replayed verbatim', () => {
  it('current: the call goes through but renders as {} (vllm-project/vllm#48922): a prefix break', async () => {
    const { outcome, records, mock } = await runBadCall('current')
    expect(outcome).not.toBeInstanceOf(Error)
    expect(records).toHaveLength(2)
    const secondPrompt = mock.tokenizer.decode(records[1]!.promptTokenIds!)
    expect(secondPrompt).toContain('<tool_call>\n{"name": "calculator", "arguments": {}}\n</tool_call>')
    expect(secondPrompt).not.toContain('{"expression": 2+2}')
  })

  it("strict-0.20: the next call is a 400 with Python's JSONDecodeError text, and the rollout ends", async () => {
    const { outcome, records } = await runBadCall('strict-0.20')
    expect(outcome).toBeInstanceOf(ModelError)
    const cause = (outcome as ModelError).cause
    expect(APICallError.isInstance(cause)).toBe(true)
    expect((cause as APICallError).statusCode).toBe(400)
    expect((outcome as ModelError).message).toContain("Expecting ',' delimiter: line 1 column 17 (char 16)")
    // the first call's record was captured before the second call failed
    expect(records).toHaveLength(1)
  })
})
