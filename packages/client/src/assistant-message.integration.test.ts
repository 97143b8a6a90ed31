// A hand-written tool loop over the real mock-vllm (real Qwen3 tokenizer and chat template, and each vLLM
// generation's handling of incoming messages): with toAssistantMessage each call's prompt starts with the
// previous prompt plus the ids the model sampled, so the trajectory builder can merge the calls.
import { type MockVllmOptions, type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import {
  type ChatMessage,
  type ChatRequest,
  type ChatTool,
  startsWithConcatenation,
  type TokenRecord,
} from '@vllm-tito/spec'
import { afterEach, describe, expect, it } from 'vitest'
import { toAssistantMessage } from './assistant-message'
import { VLLMClient } from './vllm-client'

const MODEL = 'Qwen/Qwen3-8B'
const calculator: ChatTool = {
  type: 'function',
  function: {
    name: 'calculator',
    parameters: { type: 'object', properties: { expression: { type: 'string' } }, required: ['expression'] },
  },
}

let server: MockVllmServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

interface LoopOptions {
  /** How the assistant turn is sent back. */
  reply: (record: TokenRecord) => ChatMessage
  /** `create`: the non-streaming call (vLLM 0.10.2–0.11 drop parser-swallowed ids from streams). */
  call: 'stream' | 'create'
}

/** Runs the calculator tool loop until the model answers; returns each call's record and request body. */
async function runToolLoop(mockOptions: MockVllmOptions, options: LoopOptions) {
  server = await startMockVllm({ model: MODEL, ...mockOptions })
  const client = new VLLMClient({ baseUrl: server.baseUrl })
  const messages: ChatMessage[] = [{ role: 'user', content: 'What is 21 * 2? Use the calculator tool.' }]
  const records: TokenRecord[] = []
  for (let call = 0; call < 4; call += 1) {
    const request: ChatRequest = { model: MODEL, messages: [...messages], tools: [calculator] }
    const [record] =
      options.call === 'stream'
        ? await client.chat.stream(request).final()
        : await client.chat.create(request)
    records.push(record!)
    const assistant = options.reply(record!)
    messages.push(assistant)
    if (record!.toolCalls.length === 0) break
    for (const toolCall of assistant.tool_calls ?? []) {
      messages.push({ role: 'tool', tool_call_id: toolCall.id, content: '42' })
    }
  }
  const bodies = server.requests
    .filter((request) => request.path === '/v1/chat/completions')
    .map((request) => request.body as ChatRequest)
  return { records, bodies }
}

/** For each call after the first: does its prompt start with the previous prompt plus the sampled ids? */
function extendsPrevious(records: readonly TokenRecord[]): boolean[] {
  return records
    .slice(1)
    .map((record, index) =>
      startsWithConcatenation(
        record.promptTokenIds!,
        records[index]!.promptTokenIds!,
        records[index]!.tokenIds!,
      ),
    )
}

describe.each(['current', 'strict-0.20'] as const)('a thinking tool loop against %s', (mode) => {
  it('with toAssistantMessage: the second prompt extends the first prompt plus its response', async () => {
    const { records, bodies } = await runToolLoop({ mode }, { reply: toAssistantMessage, call: 'stream' })
    expect(records.map((record) => record.verification.status)).toEqual(['verified', 'verified'])
    expect(records[0]!.reasoning).toBe('\nThe user wants 21 * 2. I will use the calculator tool.\n')
    expect(extendsPrevious(records)).toEqual([true])
    expect(bodies[1]!.messages[1]).toEqual({
      role: 'assistant',
      content: '',
      reasoning: records[0]!.reasoning,
      reasoning_content: records[0]!.reasoning,
      tool_calls: [
        {
          id: records[0]!.toolCalls[0]!.id,
          type: 'function',
          function: { name: 'calculator', arguments: '{"expression": "21 * 2"}' },
        },
      ],
    })
  })

  it('with record.text as the whole assistant message: the second prompt no longer extends the first', async () => {
    const textOnly = (record: TokenRecord): ChatMessage => ({ role: 'assistant', content: record.text })
    const { records } = await runToolLoop({ mode }, { reply: textOnly, call: 'stream' })
    expect(records.map((record) => record.verification.status)).toEqual(['verified', 'verified'])
    expect(extendsPrevious(records)).toEqual([false])
  })
})

describe('a tool loop against legacy-0.10 (vLLM 0.10.2–0.11)', () => {
  // this generation reads no reasoning field of incoming messages at all (interleaved thinking came with
  // vllm-project/vllm#28531), so a replayed <think> block is lost whatever is sent; a turn without thinking
  // keeps the prefix when it goes back with its tool calls and raw arguments
  const replies = [
    '<tool_call>\n{"name": "calculator", "arguments": {"expression": "21 * 2"}}\n</tool_call>',
    '21 * 2 is 42.',
  ]

  it('with toAssistantMessage: the second prompt extends the first prompt plus its response', async () => {
    const { records, bodies } = await runToolLoop(
      { mode: 'legacy-0.10', policy: { script: replies } },
      { reply: toAssistantMessage, call: 'create' },
    )
    expect(records.map((record) => record.verification.status)).toEqual(['verified', 'verified'])
    expect(records.map((record) => record.text)).toEqual(['', '21 * 2 is 42.'])
    expect(extendsPrevious(records)).toEqual([true])
    expect(bodies[1]!.messages[1]).toMatchObject({
      role: 'assistant',
      content: '',
      tool_calls: [{ function: { name: 'calculator', arguments: '{"expression": "21 * 2"}' } }],
    })
  })

  it('with record.text as the whole assistant message: the tool call is lost and the prefix breaks', async () => {
    const textOnly = (record: TokenRecord): ChatMessage => ({ role: 'assistant', content: record.text })
    const { records } = await runToolLoop(
      { mode: 'legacy-0.10', policy: { script: replies } },
      { reply: textOnly, call: 'create' },
    )
    expect(extendsPrevious(records)).toEqual([false])
  })
})
