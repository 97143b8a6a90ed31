import {
  loadQwen3Tokenizer,
  type MockVllmServer,
  type Qwen3Tokenizer,
  startMockVllm,
} from '@vllm-tito/mock-vllm'
import type { ChatMessage, TokenRecord } from '@vllm-tito/spec'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { calculatorTools } from './__fixtures__/calculator-tools'
import { recordOf } from './__fixtures__/records'
import { QWEN3_SPECIAL_TOKEN_IDS } from './classify-prefix-break'
import { buildTrajectory } from './trajectory-builder'

// the same tool loop over real HTTP: mock-vllm renders prompts with Qwen3's template and tokenizer and
// returns prompt_token_ids / token_ids exactly as vLLM does (non-streaming, return_token_ids: true)

function scriptFor(thinking: boolean): string[] {
  const think = (text: string) => (thinking ? `<think>\n${text}\n</think>\n\n` : '')
  return [
    `${think('HAVING the calculator helps.')}<tool_call>\n{"name": "calculator", "arguments": {"expression": "17 * 23"}}\n</tool_call>`,
    `${think('Now add 4.')}<tool_call>\n{"name": "calculator", "arguments": {"expression": "391 + 4"}}\n</tool_call>`,
    `${think('Done.')}The answer is 395.`,
  ]
}

interface ChoiceMessage {
  content: string | null
  reasoning?: string | null
  tool_calls?: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }>
}

interface ChatResponse {
  prompt_token_ids: number[]
  choices: Array<{ token_ids: number[]; message: ChoiceMessage; finish_reason: string }>
  usage: { prompt_tokens: number; completion_tokens: number }
}

/** Runs the three-call loop; returns one record per call, built from the wire fields. */
async function runToolLoop(
  server: MockVllmServer,
  options: { thinking: boolean; returnReasoning: boolean },
): Promise<TokenRecord[]> {
  const messages: ChatMessage[] = [{ role: 'user', content: 'What is 17 * 23 + 4? Use the calculator.' }]
  const records: TokenRecord[] = []
  for (let call = 0; call < 3; call += 1) {
    const response = await fetch(`${server.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'Qwen/Qwen3-8B',
        messages,
        tools: calculatorTools,
        return_token_ids: true,
        ...(options.thinking ? {} : { chat_template_kwargs: { enable_thinking: false } }),
      }),
    })
    expect(response.status).toBe(200)
    const body = (await response.json()) as ChatResponse
    const [choice] = body.choices
    expect(body.prompt_token_ids).toHaveLength(body.usage.prompt_tokens)
    expect(choice!.token_ids).toHaveLength(body.usage.completion_tokens)
    records.push(recordOf(body.prompt_token_ids, choice!.token_ids, { finishReason: choice!.finish_reason }))
    const message = choice!.message
    // clients send back the parsed content (whitespace-only content as empty) and tool calls
    messages.push({
      role: 'assistant',
      content: message.content?.trim() ?? '',
      ...(message.tool_calls ? { tool_calls: message.tool_calls } : {}),
      ...(options.returnReasoning && message.reasoning ? { reasoning_content: message.reasoning } : {}),
    })
    for (const toolCall of message.tool_calls ?? []) {
      const result = toolCall.function.arguments.includes('17 * 23') ? '391' : '395'
      messages.push({ role: 'tool', content: result, tool_call_id: toolCall.id })
    }
  }
  return records
}

let tokenizer: Qwen3Tokenizer
let server: MockVllmServer | undefined
beforeAll(async () => {
  tokenizer = await loadQwen3Tokenizer()
})
afterEach(async () => {
  await server?.close()
  server = undefined
})

describe('golden: Qwen3 tool loop served by mock-vllm', () => {
  it('thinking on, reasoning not sent back: two template breaks, three exact sequences', async () => {
    server = await startMockVllm({ policy: { script: scriptFor(true) } })
    const records = await runToolLoop(server, { thinking: true, returnReasoning: false })
    const trajectory = buildTrajectory(records, { tokenizer, specialTokenIds: QWEN3_SPECIAL_TOKEN_IDS })
    expect(trajectory.metrics.breaks).toEqual({ template: 2, retokenization: 0, other: 0 })
    expect(trajectory.sequences).toHaveLength(3)
    expect(trajectory.breaks[0]!.driftIndex).toBe(records[0]!.promptTokenIds!.length)
    expect(records[0]!.tokenIds![0]).toBe(151667)
  })

  it('thinking on, reasoning sent back: one sequence equal to the last call', async () => {
    server = await startMockVllm({ policy: { script: scriptFor(true) } })
    const records = await runToolLoop(server, { thinking: true, returnReasoning: true })
    const trajectory = buildTrajectory(records, { tokenizer, specialTokenIds: QWEN3_SPECIAL_TOKEN_IDS })
    expect(trajectory.breaks).toEqual([])
    const last = records.at(-1)!
    expect(trajectory.sequences.map((sequence) => sequence.tokenIds)).toEqual([
      [...last.promptTokenIds!, ...last.tokenIds!],
    ])
    expect(trajectory.metrics.turnsMerged).toBe(2)
  })

  it('enable_thinking: false: the empty think block is not re-rendered, classified template', async () => {
    server = await startMockVllm({ policy: { script: scriptFor(false) } })
    const records = await runToolLoop(server, { thinking: false, returnReasoning: false })
    const trajectory = buildTrajectory(records, { tokenizer, specialTokenIds: QWEN3_SPECIAL_TOKEN_IDS })
    expect(trajectory.metrics.breaks).toEqual({ template: 2, retokenization: 0, other: 0 })
    const firstPrompt = records[0]!.promptTokenIds!
    expect(trajectory.breaks[0]!.driftIndex).toBe(firstPrompt.length - 4)
    expect(tokenizer.decode(firstPrompt.slice(-4))).toBe('<think>\n\n</think>\n\n')
  })

  it('non-canonical sampled splits come back re-encoded: retokenization findings', async () => {
    server = await startMockVllm({ policy: { script: scriptFor(true) }, nonCanonicalRate: 1, seed: 7 })
    const records = await runToolLoop(server, { thinking: true, returnReasoning: true })
    const trajectory = buildTrajectory(records, { tokenizer, specialTokenIds: QWEN3_SPECIAL_TOKEN_IDS })
    expect(trajectory.metrics.breaks).toEqual({ template: 0, retokenization: 2, other: 0 })
    expect(trajectory.sequences).toHaveLength(3)
    const firstResponse = records[0]!.tokenIds!
    const reencoded = records[1]!.promptTokenIds!.slice(
      records[0]!.promptTokenIds!.length,
      records[0]!.promptTokenIds!.length + firstResponse.length,
    )
    expect(trajectory.breaks[0]!.driftIndex).toBe(
      records[0]!.promptTokenIds!.length + firstResponse.findIndex((id, index) => id !== reencoded[index]),
    )
  })
})
