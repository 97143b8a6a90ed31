// A thinking model's tool loop through VLLMModel in a real Strands Agent, over HTTP, against every mock-vllm
// profile (real Qwen3 tokenizer and chat template, and each vLLM generation's handling of incoming messages):
// does each call's prompt start with the previous prompt plus the ids the model sampled?
import { Agent, ModelStreamUpdateEvent, NullConversationManager, tool } from '@strands-agents/sdk'
import { VLLMClient } from '@vllm-tito/client'
import { type MockVllmMode, type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import {
  type ChatMessage,
  type ChatTool,
  extractTokenRecord,
  startsWithConcatenation,
  type TokenRecord,
  type TokenStreamingClient,
} from '@vllm-tito/spec'
import { buildTrajectory, QWEN3_SPECIAL_TOKEN_IDS } from '@vllm-tito/trajectory'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { VLLMModel } from '../vllm-model'

const MODEL_ID = 'Qwen/Qwen3-8B'
const IM_END = 151645
const THINK = 151667
const TOOL_CALL = 151657

/** What the "model" writes on each call: think, call the calculator twice, answer. */
const replies = [
  '<think>\nFirst 17 * 23.\n</think>\n\n<tool_call>\n{"name": "calculator", "arguments": {"expression": "17*23"}}\n</tool_call>',
  '<think>\nThat is 391; now add 4.\n</think>\n\n<tool_call>\n{"name": "calculator", "arguments": {"expression": "391+4"}}\n</tool_call>',
  '<think>\n395 it is.\n</think>\n\n17 * 23 + 4 is 395.',
]

const calculator = tool({
  name: 'calculator',
  description: 'Evaluates an arithmetic expression such as 2+2.',
  inputSchema: z.object({ expression: z.string() }).strict(),
  callback: ({ expression }) => {
    const [left, operator, right] = /^(\d+)\s*([+*])\s*(\d+)$/.exec(expression)?.slice(1) ?? []
    if (left === undefined || right === undefined) throw new Error(`cannot evaluate ${expression}`)
    return String(operator === '+' ? Number(left) + Number(right) : Number(left) * Number(right))
  },
})

let server: MockVllmServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

/**
 * A client that replays reasoning the way VLLMModel did before: as `reasoning_content` only, the field
 * vLLM stopped reading in vllm-project/vllm#33402.
 */
function reasoningContentOnly(client: TokenStreamingClient): TokenStreamingClient {
  return {
    chat: {
      stream: (request, options) => {
        const messages = request.messages.map(({ reasoning: _dropped, ...message }) => message)
        return client.chat.stream({ ...request, messages }, options)
      },
    },
  }
}

/** Runs the three-call loop against a fresh mock in `mode`; returns the records and the request bodies. */
async function runToolLoop(mode: MockVllmMode, options: { oldStyleClient?: boolean } = {}) {
  server = await startMockVllm({ mode, model: MODEL_ID, policy: { script: replies } })
  const client = new VLLMClient({ baseUrl: server.baseUrl })
  const model = new VLLMModel({
    client: options.oldStyleClient ? reasoningContentOnly(client) : client,
    modelId: MODEL_ID,
    returnTokenIds: true,
  })
  const agent = new Agent({
    model,
    tools: [calculator],
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
  const result = await agent.invoke('What is 17 * 23 + 4?')
  const bodies = server.requests
    .filter((request) => request.path === '/v1/chat/completions')
    .map((request) => request.body as { messages: ChatMessage[]; tools: ChatTool[] })
  return { result, records, bodies, mock: server }
}

/** The ids the mock sampled for call `index`: the real tokenizer's ids of the reply, then `<|im_end|>`. */
function sampledIds(mock: MockVllmServer, index: number): number[] {
  return [...mock.tokenizer.encode(replies[index]!), IM_END]
}

describe.each(['current', 'strict-0.20'] as const)('the thinking tool loop against %s', (mode) => {
  it('extends every prompt by the previous prompt and the sampled ids, call by call: one sequence', async () => {
    const { result, records, bodies, mock } = await runToolLoop(mode)
    expect(result.lastMessage.content.at(-1)).toMatchObject({ text: '\n\n17 * 23 + 4 is 395.' })
    expect(records).toHaveLength(3)
    for (const [index, record] of records.entries()) {
      expect(record.verification.status).toBe('verified')
      expect(record.tokenIds).toEqual(sampledIds(mock, index))
    }
    for (let call = 1; call < records.length; call += 1) {
      const previous = records[call - 1]!
      const extendsPrevious = startsWithConcatenation(
        records[call]!.promptTokenIds!,
        previous.promptTokenIds!,
        previous.tokenIds!,
      )
      expect(extendsPrevious, `call ${call} extends call ${call - 1}`).toBe(true)
    }
    // what VLLMModel sent back for the first turn: the reasoning under both names
    expect(bodies[1]!.messages[1]).toMatchObject({
      role: 'assistant',
      reasoning: '\nFirst 17 * 23.\n',
      reasoning_content: '\nFirst 17 * 23.\n',
    })
    const trajectory = buildTrajectory(records, {
      tokenizer: mock.tokenizer,
      specialTokenIds: QWEN3_SPECIAL_TOKEN_IDS,
    })
    expect(trajectory.breaks).toEqual([])
    expect(trajectory.sequences.map((sequence) => sequence.tokenIds)).toEqual([
      [...records[2]!.promptTokenIds!, ...records[2]!.tokenIds!],
    ])
  })
})

describe('a client that replays reasoning as reasoning_content only', () => {
  it('still keeps one sequence against current, which renames the field (vllm-project/vllm#42664)', async () => {
    const { records, bodies, mock } = await runToolLoop('current', { oldStyleClient: true })
    expect(bodies[1]!.messages[1]).not.toHaveProperty('reasoning')
    expect(records).toHaveLength(3)
    const trajectory = buildTrajectory(records, {
      tokenizer: mock.tokenizer,
      specialTokenIds: QWEN3_SPECIAL_TOKEN_IDS,
    })
    expect(trajectory.breaks).toEqual([])
    expect(trajectory.sequences).toHaveLength(1)
  })

  it('breaks every call against strict-0.20: the <think> block renders empty, a template break', async () => {
    const { records, bodies, mock } = await runToolLoop('strict-0.20', { oldStyleClient: true })
    expect(bodies[1]!.messages[1]).not.toHaveProperty('reasoning')
    expect(records.map((record) => record.verification.status)).toEqual(['verified', 'verified', 'verified'])
    for (let call = 1; call < records.length; call += 1) {
      const previous = records[call - 1]!
      const prompt = records[call]!.promptTokenIds!
      expect(startsWithConcatenation(prompt, previous.promptTokenIds!, previous.tokenIds!)).toBe(false)
      // the sampled turn starts with <think>; the re-rendered one goes straight to <tool_call>
      const turnStart = previous.promptTokenIds!.length
      expect([previous.tokenIds![0], prompt[turnStart]]).toEqual([THINK, TOOL_CALL])
    }
    const trajectory = buildTrajectory(records, {
      tokenizer: mock.tokenizer,
      specialTokenIds: QWEN3_SPECIAL_TOKEN_IDS,
    })
    expect(trajectory.breaks.map((prefixBreak) => [prefixBreak.turnIndex, prefixBreak.kind])).toEqual([
      [1, 'template'],
      [2, 'template'],
    ])
    expect(trajectory.sequences).toHaveLength(3)
  })
})

describe.each(['legacy-0.10', 'pre-0.10.2'] as const)('the thinking tool loop against %s', (mode) => {
  // these generations read no reasoning field from incoming messages at all (interleaved thinking arrived
  // with vllm-project/vllm#28531), so no field name can keep the prefix; their streamed ids are also
  // incomplete (legacy-0.10 drops parser-swallowed ids) or absent (pre-0.10.2), so the prompts are
  // re-rendered from the requests the mock received, through that generation's input side
  it('loses the replayed <think> block whatever VLLMModel sends: each prompt breaks at the previous turn', async () => {
    const { result, bodies, mock } = await runToolLoop(mode)
    expect(result.lastMessage.content.at(-1)).toMatchObject({ text: '\n\n17 * 23 + 4 is 395.' })
    const prompts = bodies.map((body) =>
      mock.tokenizer.encodeChat(body.messages, { tools: body.tools, mode }),
    )
    for (let call = 1; call < prompts.length; call += 1) {
      const previousPrompt = prompts[call - 1]!
      expect(startsWithConcatenation(prompts[call]!, previousPrompt, sampledIds(mock, call - 1))).toBe(false)
      expect(prompts[call]!.slice(0, previousPrompt.length)).toEqual(previousPrompt)
      expect(prompts[call]![previousPrompt.length]).toBe(TOOL_CALL)
    }
    expect(bodies[1]!.messages[1]).toMatchObject({ reasoning: '\nFirst 17 * 23.\n' })
  })
})
