// VLLMModel inside a real Strands Agent, over real HTTP, against the mock vLLM server (real Qwen3 tokenizer
// and chat template): the token ids each call captures, and what the next prompt renders from them.
import {
  Agent,
  ContextWindowOverflowError,
  MaxTokensError,
  type Message,
  ModelStreamUpdateEvent,
  ModelThrottledError,
  NullConversationManager,
  ReasoningBlock,
  TextBlock,
  ToolResultBlock,
  ToolUseBlock,
  tool,
} from '@strands-agents/sdk'
import { type MockVllmOptions, type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import { type ChatMessage, extractTokenRecord, type TokenRecord } from '@vllm-tito/spec'
import { VLLMToolValidationHooks } from '@vllm-tito/validation/strands'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { VLLMModel } from '../vllm-model'

const MODEL_ID = 'Qwen/Qwen3-8B'
const IM_END = 151645

let server: MockVllmServer | undefined

afterEach(async () => {
  await server?.close()
  server = undefined
})

async function startServer(options: MockVllmOptions): Promise<MockVllmServer> {
  server = await startMockVllm({ model: MODEL_ID, ...options })
  return server
}

function modelFor(mock: MockVllmServer, config: { maxTokens?: number } = {}): VLLMModel {
  return new VLLMModel({ baseUrl: `${mock.baseUrl}/v1`, modelId: MODEL_ID, returnTokenIds: true, ...config })
}

const calculatorCalls: string[] = []
const calculator = tool({
  name: 'calculator',
  description: 'Evaluates an arithmetic expression such as 2+2.',
  inputSchema: z.object({ expression: z.string() }).strict(),
  callback: ({ expression }) => {
    calculatorCalls.push(expression)
    const [left, operator, right] = /^(\d+)\s*([+*])\s*(\d+)$/.exec(expression)?.slice(1) ?? []
    if (left === undefined || right === undefined) throw new Error(`cannot evaluate ${expression}`)
    return String(operator === '+' ? Number(left) + Number(right) : Number(left) * Number(right))
  },
})

/** An agent set up for RL rollouts, with a hook that keeps every record seen at message-stop time. */
function rolloutAgent(model: VLLMModel, options: { withTools?: boolean; id?: string } = {}) {
  const agent = new Agent({
    model,
    ...(options.id !== undefined && { id: options.id }),
    tools: options.withTools ? [calculator] : [],
    printer: false,
    conversationManager: new NullConversationManager(),
    retryStrategy: null,
    plugins: options.withTools ? [new VLLMToolValidationHooks()] : [],
  })
  const records: TokenRecord[] = []
  agent.addHook(ModelStreamUpdateEvent, (event) => {
    if (event.event.type !== 'modelMessageStopEvent') return
    const record = extractTokenRecord(event.event.additionalModelResponseFields)
    if (record !== undefined) records.push(record)
  })
  return { agent, records }
}

function recordOf(message: Message): TokenRecord | undefined {
  return extractTokenRecord(message.metadata?.custom?.vllm)
}

/** The body of the `index`-th chat request the mock received. */
function chatRequestBody(mock: MockVllmServer, index: number): Record<string, unknown> {
  const request = mock.requests.filter((candidate) => candidate.path === '/v1/chat/completions')[index]
  if (request === undefined) throw new Error(`the mock received no chat request #${index}`)
  return request.body as Record<string, unknown>
}

function requestMessages(mock: MockVllmServer, index: number): ChatMessage[] {
  return chatRequestBody(mock, index).messages as ChatMessage[]
}

/** Token-in/token-out holds when each prompt starts with the previous prompt plus the previous response. */
function expectPrefixExtension(previous: TokenRecord, next: TokenRecord): void {
  const expected = [...previous.promptTokenIds!, ...previous.tokenIds!]
  expect(next.promptTokenIds!.slice(0, expected.length)).toEqual(expected)
}

describe('VLLMModel in an Agent against mock-vllm', () => {
  it('runs a single turn and keeps the exact, verified ids on the message and the stop event', async () => {
    const mock = await startServer({ policy: { script: ['The answer is 4.'] } })
    const { agent, records } = rolloutAgent(modelFor(mock))
    const result = await agent.invoke('What is 2+2?')

    expect(result.stopReason).toBe('endTurn')
    expect(result.lastMessage.content).toEqual([new TextBlock('The answer is 4.')])
    const record = recordOf(result.lastMessage)!
    expect(records).toEqual([record])
    expect(record.verification.status).toBe('verified')
    expect(record.tokenIds).toEqual([...mock.tokenizer.encode('The answer is 4.'), IM_END])
    expect(record.promptTokenIds).toEqual(
      mock.tokenizer.encodeChat([{ role: 'user', content: 'What is 2+2?' }], { addGenerationPrompt: true }),
    )
    expect(result.lastMessage.metadata?.custom?.vllm).toEqual({
      prompt_token_ids: record.promptTokenIds,
      token_ids: record.tokenIds,
      token_record: record,
    })
    expect(agent.messages[1]?.metadata?.custom?.vllm).toEqual(result.lastMessage.metadata?.custom?.vllm)
    expect(chatRequestBody(mock, 0).return_token_ids).toBe(true)
  })

  it('runs a multi-turn calculator tool loop whose prompts extend each other token for token', async () => {
    calculatorCalls.length = 0
    const callReply =
      '<think>\nI should use the calculator.\n</think>\n\n<tool_call>\n{"name": "calculator", "arguments": {"expression": "2+2"}}\n</tool_call>'
    const mock = await startServer({ policy: { script: [callReply, 'The answer is 4.'] } })
    const { agent, records } = rolloutAgent(modelFor(mock), { withTools: true })
    const result = await agent.invoke('What is 2+2?')

    expect(calculatorCalls).toEqual(['2+2'])
    expect(result.lastMessage.content).toEqual([new TextBlock('The answer is 4.')])
    expect(records).toHaveLength(2)
    const [first, second] = records as [TokenRecord, TokenRecord]
    expect(first.finishReason).toBe('tool_calls')
    expect(first.verification.status).toBe('verified')
    expect(second.verification.status).toBe('verified')
    expect(mock.tokenizer.decode(first.tokenIds!)).toBe(`${callReply}<|im_end|>`)

    const toolCallId = first.toolCalls[0]!.id!
    expect(requestMessages(mock, 1).slice(1)).toEqual([
      {
        role: 'assistant',
        // the `\n\n` after `</think>` is written by Qwen3's template itself, so it is not sent twice
        content: '',
        reasoning: '\nI should use the calculator.\n',
        reasoning_content: '\nI should use the calculator.\n',
        tool_calls: [
          {
            id: toolCallId,
            type: 'function',
            function: { name: 'calculator', arguments: '{"expression": "2+2"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: toolCallId, content: '4' },
    ])
    expectPrefixExtension(first, second)
  })

  it('keeps the text before a tool call, and the next prompt still extends the last one', async () => {
    calculatorCalls.length = 0
    const callReply =
      '<think>\nA tool helps.\n</think>\n\nLet me compute.\n<tool_call>\n{"name": "calculator", "arguments": {"expression": "2*3"}}\n</tool_call>'
    const mock = await startServer({ policy: { script: [callReply, 'It is 6.'] } })
    const { agent, records } = rolloutAgent(modelFor(mock), { withTools: true })
    await agent.invoke('What is 2*3?')

    expect(calculatorCalls).toEqual(['2*3'])
    expect(agent.messages[1]?.content.slice(0, 2)).toEqual([
      new ReasoningBlock({ text: '\nA tool helps.\n' }),
      new TextBlock('\n\nLet me compute.\n'),
    ])
    expect(requestMessages(mock, 1)[1]).toMatchObject({ content: 'Let me compute.' })
    expectPrefixExtension(records[0]!, records[1]!)
  })

  it('executes parallel tool calls and answers each of them', async () => {
    calculatorCalls.length = 0
    const callReply =
      '<tool_call>\n{"name": "calculator", "arguments": {"expression": "2+2"}}\n</tool_call>\n<tool_call>\n{"name": "calculator", "arguments": {"expression": "3*3"}}\n</tool_call>'
    const mock = await startServer({ policy: { script: [callReply, '4 and 9.'] } })
    const { agent, records } = rolloutAgent(modelFor(mock), { withTools: true })
    const result = await agent.invoke('What are 2+2 and 3*3?')

    expect([...calculatorCalls].sort()).toEqual(['2+2', '3*3'])
    const assistant = agent.messages[1]!
    const calls = assistant.content.filter((block): block is ToolUseBlock => block instanceof ToolUseBlock)
    expect(calls.map((call) => call.input)).toEqual([{ expression: '2+2' }, { expression: '3*3' }])
    const results = agent.messages[2]!.content.filter(
      (block): block is ToolResultBlock => block instanceof ToolResultBlock,
    )
    expect(results.map((block) => [block.toolUseId, block.status])).toEqual([
      [calls[0]!.toolUseId, 'success'],
      [calls[1]!.toolUseId, 'success'],
    ])
    expect(result.lastMessage.content).toEqual([new TextBlock('4 and 9.')])
    expectPrefixExtension(records[0]!, records[1]!)
  })

  it('keeps reasoning as a reasoning block, apart from the answer text', async () => {
    const mock = await startServer({
      policy: { script: ['<think>\nLet me add.\n</think>\n\nThe answer is 4.'] },
    })
    const { agent } = rolloutAgent(modelFor(mock))
    const result = await agent.invoke('What is 2+2?')
    expect(result.lastMessage.content).toEqual([
      new ReasoningBlock({ text: '\nLet me add.\n' }),
      new TextBlock('\n\nThe answer is 4.'),
    ])
    expect(recordOf(result.lastMessage)?.reasoning).toBe('\nLet me add.\n')
  })

  it('answers malformed tool JSON through the validation hook and sends the call back as {}', async () => {
    calculatorCalls.length = 0
    const badCall = '<tool_call>\n{"name": "calculator", "arguments": {"expression": 2+2}}\n</tool_call>'
    const mock = await startServer({ policy: { script: [badCall, 'Sorry, 4.'] } })
    const { agent, records } = rolloutAgent(modelFor(mock), { withTools: true })
    const result = await agent.invoke('What is 2+2?')

    expect(calculatorCalls).toEqual([])
    expect(result.lastMessage.content).toEqual([new TextBlock('Sorry, 4.')])
    const toolMessages = requestMessages(mock, 1).slice(1)
    expect(records[0]!.toolCalls[0]!.arguments).toBe('{"expression": 2+2}')
    expect(toolMessages[0]?.tool_calls?.[0]?.function.arguments).toBe('{}')
    expect(toolMessages[1]).toEqual({
      role: 'tool',
      tool_call_id: toolMessages[0]?.tool_calls?.[0]?.id,
      content: 'Error: tool_name=<calculator> | tool input is not valid JSON',
    })
    // what every vLLM renders for it since vllm-project/vllm#48922: the next prompt cannot extend what the
    // model sampled (invalid-arguments-replay.test.ts runs every version)
    expect(mock.tokenizer.decode(records[1]!.promptTokenIds!)).toContain(
      '<tool_call>\n{"name": "calculator", "arguments": {}}\n</tool_call>',
    )
    const [first] = records as [TokenRecord]
    expect(records[1]!.promptTokenIds!.slice(0, first.promptTokenIds!.length)).toEqual(first.promptTokenIds)
  })

  it('throws MaxTokensError on a length finish after hooks and the partial message got the record', async () => {
    const mock = await startServer({
      policy: { script: ['one two three four five six seven eight nine ten'] },
    })
    const { agent, records } = rolloutAgent(modelFor(mock, { maxTokens: 4 }))
    const error = await agent.invoke('Count to ten.').catch((caught: unknown) => caught)

    expect(error).toBeInstanceOf(MaxTokensError)
    expect(records).toHaveLength(1)
    const record = records[0]!
    expect(record.finishReason).toBe('length')
    expect(record.tokenIds).toHaveLength(4)
    expect(record.verification.status).toBe('verified')
    expect(recordOf((error as MaxTokensError).partialMessage)).toEqual(record)
    expect(chatRequestBody(mock, 0).max_tokens).toBe(4)
  })

  it("turns vLLM 0.10.2's tool_calls finish on a max_tokens cut into MaxTokensError, not a tool run", async () => {
    const mock = await startServer({
      mode: 'legacy-0.10',
      policy: {
        script: ['<tool_call>\n{"name": "calculator", "arguments": {"expression": "12+30"}}\n</tool_call>'],
      },
    })
    // strands-vllm's default (no ids): only usage shows the engine stopped on max_tokens
    const model = new VLLMModel({ baseUrl: `${mock.baseUrl}/v1`, modelId: MODEL_ID, maxTokens: 14 })
    const { agent, records } = rolloutAgent(model, { withTools: true })
    calculatorCalls.length = 0
    const error = await agent.invoke('What is 12+30?').catch((caught: unknown) => caught)

    expect(error).toBeInstanceOf(MaxTokensError)
    expect(records).toHaveLength(1)
    expect(records[0]!.usage!.completionTokens).toBe(14)
    expect(records[0]!.toolCalls[0]!.arguments).toBe('{"expression":')
    expect(records[0]!.finishReason).toBe('length')
    expect(calculatorCalls).toEqual([])
  })

  it('maps HTTP 429 to ModelThrottledError', async () => {
    const mock = await startServer({ faults: [{ kind: 'http-status', status: 429, retryAfterSeconds: 0 }] })
    const { agent, records } = rolloutAgent(modelFor(mock))
    const error = await agent.invoke('Hi').catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ModelThrottledError)
    expect(((error as Error).cause as { statusCode: number }).statusCode).toBe(429)
    expect(records).toEqual([])
  })

  it('maps a context-length 400 to ContextWindowOverflowError', async () => {
    const mock = await startServer({ maxModelLen: 32 })
    const { agent } = rolloutAgent(modelFor(mock, { maxTokens: 16 }))
    const error = await agent.invoke('word '.repeat(40)).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ContextWindowOverflowError)
    expect((error as Error).message).toMatch(/maximum context length is 32 tokens/)
  })

  it('aborts the HTTP stream when the agent is cancelled mid-answer', async () => {
    const longReply = 'word '.repeat(400)
    const mock = await startServer({ policy: { script: [longReply] }, pacing: { interChunkDelayMs: 10 } })
    const { agent, records } = rolloutAgent(modelFor(mock))
    let textDeltas = 0
    agent.addHook(ModelStreamUpdateEvent, (event) => {
      if (event.event.type === 'modelContentBlockDeltaEvent' && ++textDeltas === 3) agent.cancel()
    })
    const started = Date.now()
    const result = await agent.invoke('Talk for a while.')
    // the whole reply would take 400 chunks × 10 ms; a cancelled call ends long before
    expect(Date.now() - started).toBeLessThan(2_000)
    expect(result.stopReason).toBe('cancelled')
    expect(textDeltas).toBeLessThan(20)
    expect(records).toEqual([])
  })

  it('runs 32 agents in parallel, each seeing only its own records', async () => {
    const mock = await startServer({
      policy: {
        script: ({ body }) => {
          const messages = body.messages as ChatMessage[]
          const prompt = String(messages.at(-1)?.content)
          return `Reply to ${prompt}.`
        },
      },
      pacing: { interChunkDelayMs: 1 },
    })
    const runs = Array.from({ length: 32 }, (_, index) => {
      const { agent, records } = rolloutAgent(modelFor(mock), { id: `rollout-${index}` })
      return { index, agent, records, result: agent.invoke(`task ${index}`) }
    })
    for (const run of runs) {
      const result = await run.result
      expect(result.lastMessage.content).toEqual([new TextBlock(`Reply to task ${run.index}.`)])
      expect(run.records).toHaveLength(1)
      const record = run.records[0]!
      expect(recordOf(result.lastMessage)).toEqual(record)
      expect(mock.tokenizer.decode(record.tokenIds!)).toBe(`Reply to task ${run.index}.<|im_end|>`)
      expect(mock.tokenizer.decode(record.promptTokenIds!)).toContain(`task ${run.index}<|im_end|>`)
      expect(record.verification.status).toBe('verified')
    }
  })
})
