// A model's malformed tool-call JSON against each vLLM generation's input side: vLLM parses replayed arguments
// before rendering (`_postprocess_messages` in vllm/entrypoints/chat_utils.py), and before
// vllm-project/vllm#48922 text that is not JSON is a 400 on every later call. VLLMModel sends `{}` for such a
// call, so no version ends the rollout; the prompt then differs from what the model sampled, and the
// trajectory builder reports the break.
import { Agent, ModelStreamUpdateEvent, NullConversationManager, tool } from '@strands-agents/sdk'
import { VLLMClient } from '@vllm-tito/client'
import { type MockVllmMode, type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import { type ChatMessage, extractTokenRecord, type TokenRecord } from '@vllm-tito/spec'
import { buildTrajectory, QWEN3_SPECIAL_TOKEN_IDS } from '@vllm-tito/trajectory'
import { VLLMToolValidationHooks } from '@vllm-tito/validation/strands'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { rewritingFetch } from '../__fixtures__/rewriting-fetch'
import { VLLMModel } from '../vllm-model'

const MODEL_ID = 'Qwen/Qwen3-8B'
const BAD_CALL = '<tool_call>\n{"name": "calculator", "arguments": {"expression": 2+2}}\n</tool_call>'
const GOOD_CALL = '<tool_call>\n{"name": "calculator", "arguments": {"expression": "2+2"}}\n</tool_call>'
/**
 * Without streaming, vLLM's hermes parser returns a call that is not JSON as text; parsers that pass the
 * arguments through are imitated by rewriting the valid arguments of the response body.
 */
const MALFORMED_IN_BODY = [['{\\"expression\\": \\"2+2\\"}', '{\\"expression\\": 2+2}']] as const
const RENDERED_AS_EMPTY = '<tool_call>\n{"name": "calculator", "arguments": {}}\n</tool_call>'
/** Every mock-vllm generation, newest first; `pre-0.10.2` returns no token ids. */
const MODES: readonly MockVllmMode[] = ['current', 'strict-0.20', 'legacy-0.10', 'pre-0.10.2']

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

async function runBadCall(mode: MockVllmMode, stream: boolean) {
  const script = [stream ? BAD_CALL : GOOD_CALL, 'Sorry, 4.']
  server = await startMockVllm({ mode, model: MODEL_ID, policy: { script } })
  const client = new VLLMClient({
    baseUrl: server.baseUrl,
    ...(!stream && { fetch: rewritingFetch(MALFORMED_IN_BODY) }),
  })
  const agent = new Agent({
    model: new VLLMModel({ client, modelId: MODEL_ID, returnTokenIds: mode !== 'pre-0.10.2', stream }),
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
  const secondMessages = server.requests.filter((request) => request.path === '/v1/chat/completions')[1]
    ?.body as { messages: ChatMessage[] } | undefined
  return { outcome, records, mock: server, secondMessages: secondMessages?.messages ?? [] }
}

describe('malformed tool-call JSON', () => {
  it.each(MODES.flatMap((mode) => [true, false].map((stream) => [mode, stream] as const)))(
    '%s (stream: %s): the rollout goes on, the call goes back as {} and the hooks answer it',
    async (mode, stream) => {
      const { outcome, records, mock, secondMessages } = await runBadCall(mode, stream)
      expect(outcome).not.toBeInstanceOf(Error)
      expect(records).toHaveLength(2)
      // the record keeps what the model wrote; only the replayed request carries {}
      expect(records[0]!.toolCalls[0]!.arguments).toBe('{"expression": 2+2}')
      const [, assistant, toolResult] = secondMessages
      expect(assistant?.tool_calls?.[0]?.function.arguments).toBe('{}')
      expect(toolResult).toEqual({
        role: 'tool',
        tool_call_id: assistant?.tool_calls?.[0]?.id,
        content: 'Error: tool_name=<calculator> | tool input is not valid JSON',
      })
      const rendered = mock.tokenizer.renderChat(secondMessages, { mode, addGenerationPrompt: true })
      expect(rendered).toContain(RENDERED_AS_EMPTY)
      expect(rendered).not.toContain('2+2}')
    },
  )

  it('the prefix break is reported by the trajectory builder, not hidden', async () => {
    const { records, mock } = await runBadCall('current', true)
    const [first, second] = records as [TokenRecord, TokenRecord]
    expect(mock.tokenizer.decode(second.promptTokenIds!)).toContain(RENDERED_AS_EMPTY)
    expect(second.promptTokenIds!.slice(0, first.promptTokenIds!.length)).toEqual(first.promptTokenIds)
    const trajectory = buildTrajectory(records, { specialTokenIds: QWEN3_SPECIAL_TOKEN_IDS })
    expect(trajectory.breaks.map((finding) => finding.turnIndex)).toEqual([1])
    expect(trajectory.sequences).toHaveLength(2)
  })
})
