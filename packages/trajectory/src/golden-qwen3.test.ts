import { loadQwen3Tokenizer, type Qwen3Tokenizer } from '@vllm-tito/mock-vllm'
import type { ChatMessage } from '@vllm-tito/spec'
import { beforeAll, describe, expect, it } from 'vitest'
import { calculatorTools } from './__fixtures__/calculator-tools'
import { recordOf } from './__fixtures__/records'
import { checkRetokenization } from './check-retokenization'
import { QWEN3_SPECIAL_TOKEN_IDS, specialTokenSkeleton } from './classify-prefix-break'
import { buildTrajectory } from './trajectory-builder'

// golden renderings: prompts are what vLLM (and mock-vllm) render with Qwen3's real chat template and
// tokenizer; responses are the real tokenizer's ids of the model's raw output plus <|im_end|>

const THINK = 151667
const END_THINK = 151668
const TOOL_CALL = 151657

const opening: ChatMessage[] = [
  { role: 'system', content: 'You are a careful assistant.' },
  { role: 'user', content: 'What is 17 * 23 + 4? Use the calculator.' },
]
const calls = [
  { reasoning: 'HAVING the calculator is best for 17 * 23.', expression: '17 * 23', result: '391' },
  { reasoning: 'Now add 4 to 391.', expression: '391 + 4', result: '395' },
]
const finalReasoning = 'The calculator says 395.'
const finalAnswer = '17 * 23 + 4 = 395.'

let tokenizer: Qwen3Tokenizer
beforeAll(async () => {
  tokenizer = await loadQwen3Tokenizer()
})

function toolCallText(expression: string): string {
  return `<tool_call>\n{"name": "calculator", "arguments": {"expression": "${expression}"}}\n</tool_call>`
}

function rawOutput(reasoning: string | null, body: string): string {
  return reasoning === null ? body : `<think>\n${reasoning}\n</think>\n\n${body}`
}

function responseIds(text: string): number[] {
  return [...tokenizer.encode(text), tokenizer.eosTokenId]
}

/**
 * A three-call tool loop. `thinking` off sends `enable_thinking: false`; `returnReasoning` sends each
 * earlier turn's reasoning back as `reasoning_content` (otherwise only content and tool calls go back,
 * as OpenAI-style clients do).
 */
function toolLoop(options: { thinking: boolean; returnReasoning: boolean }) {
  const chatTemplateKwargs = options.thinking ? {} : { enable_thinking: false }
  const messages: ChatMessage[] = [...opening]
  const records = []
  for (const [index, call] of calls.entries()) {
    const prompt = tokenizer.encodeChat(messages, { tools: calculatorTools, chatTemplateKwargs })
    const reasoning = options.thinking ? call.reasoning : null
    records.push(recordOf(prompt, responseIds(rawOutput(reasoning, toolCallText(call.expression)))))
    messages.push(
      {
        role: 'assistant',
        content: '',
        tool_calls: [
          {
            id: `call-${index}`,
            type: 'function',
            function: { name: 'calculator', arguments: JSON.stringify({ expression: call.expression }) },
          },
        ],
        ...(options.returnReasoning && reasoning !== null ? { reasoning_content: reasoning } : {}),
      },
      { role: 'tool', content: call.result, tool_call_id: `call-${index}` },
    )
  }
  const prompt = tokenizer.encodeChat(messages, { tools: calculatorTools, chatTemplateKwargs })
  const reasoning = options.thinking ? finalReasoning : null
  records.push(recordOf(prompt, responseIds(rawOutput(reasoning, finalAnswer))))
  return records
}

describe('golden Qwen3 renderings', () => {
  it('thinking on, reasoning not sent back: Qwen3 drops the <think> block, classified template', () => {
    const records = toolLoop({ thinking: true, returnReasoning: false })
    const firstPrompt = records[0]!.promptTokenIds!
    const trajectory = buildTrajectory(records, { tokenizer, specialTokenIds: QWEN3_SPECIAL_TOKEN_IDS })
    expect(trajectory.metrics.breaks).toEqual({ template: 2, retokenization: 0, other: 0 })
    expect(trajectory.sequences).toHaveLength(3)
    const [first] = trajectory.breaks
    // the context continues with the sampled <think>, the re-rendered prompt goes straight to <tool_call>
    expect(first!.turnIndex).toBe(1)
    expect(first!.driftIndex).toBe(firstPrompt.length)
    expect(records[0]!.tokenIds![0]).toBe(THINK)
    expect(records[1]!.promptTokenIds![first!.driftIndex]).toBe(TOOL_CALL)
    const specialsBefore = specialTokenSkeleton(firstPrompt, QWEN3_SPECIAL_TOKEN_IDS).length
    expect(first!.detail).toBe(
      `special-token sequence differs at special token #${specialsBefore}: context has id ${THINK}, prompt has id ${TOOL_CALL}`,
    )
    expect(first!.promptExcerpt).toContain('<|im_start|>assistant\n<tool_call>')
    expect(first!.contextExcerpt).toContain('<|im_start|>assistant\n<think>\nHAVING the calculator')
    // each sequence is exactly one call as served: nothing merged, nothing lost
    expect(trajectory.sequences.map((sequence) => sequence.tokenIds)).toEqual(
      records.map((record) => [...record.promptTokenIds!, ...record.tokenIds!]),
    )
  })

  it('thinking on, reasoning sent back (tool loop): one clean sequence equal to the last call', () => {
    const records = toolLoop({ thinking: true, returnReasoning: true })
    const trajectory = buildTrajectory(records, { tokenizer, specialTokenIds: QWEN3_SPECIAL_TOKEN_IDS })
    expect(trajectory.breaks).toEqual([])
    expect(trajectory.sequences).toHaveLength(1)
    const [sequence] = trajectory.sequences
    const last = records.at(-1)!
    expect(sequence!.tokenIds).toEqual([...last.promptTokenIds!, ...last.tokenIds!])
    expect(sequence!.lossMask.filter((mask) => mask === 1)).toHaveLength(
      records.reduce((sum, record) => sum + record.tokenIds!.length, 0),
    )
    const [, second] = sequence!.turns
    // the only new prompt tokens of turn 1: the tool result and the next generation prompt
    expect(tokenizer.decode(sequence!.tokenIds.slice(second!.promptStart, second!.responseStart))).toBe(
      '\n<|im_start|>user\n<tool_response>\n391\n</tool_response><|im_end|>\n<|im_start|>assistant\n',
    )
    expect(trajectory.metrics.turnsMerged).toBe(2)
    // per-turn rows would repeat the first two calls in full inside the last one
    expect(trajectory.metrics.tokensSaved).toBe(
      records
        .slice(0, 2)
        .reduce((sum, record) => sum + record.promptTokenIds!.length + record.tokenIds!.length, 0),
    )
  })

  it('enable_thinking: false: the empty think block of the generation prompt is not re-rendered (template)', () => {
    const records = toolLoop({ thinking: false, returnReasoning: false })
    const firstPrompt = records[0]!.promptTokenIds!
    // the generation prompt ends with <think>\n\n</think>\n\n; history renders the turn without it
    expect(tokenizer.decode(firstPrompt.slice(-7))).toBe('<|im_start|>assistant\n<think>\n\n</think>\n\n')
    expect(records[0]!.tokenIds!.includes(THINK)).toBe(false)
    const trajectory = buildTrajectory(records, { tokenizer, specialTokenIds: QWEN3_SPECIAL_TOKEN_IDS })
    expect(trajectory.metrics.breaks).toEqual({ template: 2, retokenization: 0, other: 0 })
    expect(trajectory.breaks[0]!.driftIndex).toBe(firstPrompt.length - 4)
    expect(firstPrompt[firstPrompt.length - 4]).toBe(THINK)
    expect(firstPrompt[firstPrompt.length - 2]).toBe(END_THINK)

    // merge-lossy keeps one sequence, aligned on <|im_end|>, and flags it
    const merged = buildTrajectory(records, {
      tokenizer,
      specialTokenIds: QWEN3_SPECIAL_TOKEN_IDS,
      onBreak: 'merge-lossy',
    })
    expect(merged.sequences).toHaveLength(1)
    expect(merged.sequences[0]!.exact).toBe(false)
    expect(merged.metrics.lossyMerges).toBe(2)
    const [, second] = merged.sequences[0]!.turns
    expect(
      tokenizer.decode(merged.sequences[0]!.tokenIds.slice(second!.promptStart, second!.responseStart)),
    ).toBe(
      '\n<|im_start|>user\n<tool_response>\n391\n</tool_response><|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n',
    )
  })

  it('a non-canonical sampled split is a retokenization finding', () => {
    const records = toolLoop({ thinking: true, returnReasoning: true })
    const canonicalResponse = records[0]!.tokenIds!
    const start = canonicalResponse.findIndex(
      (id, index) => id === 72239 && canonicalResponse[index + 1] === 1718,
    )
    expect(start).toBe(2)
    // the model sampled HAVING as H + AVING ([39, 83722]); the tokenizer encodes it as HAV + ING
    const sampled = [...canonicalResponse.slice(0, start), 39, 83722, ...canonicalResponse.slice(start + 2)]
    expect(tokenizer.decode(sampled)).toBe(tokenizer.decode(canonicalResponse))
    const check = checkRetokenization(sampled, tokenizer)
    expect(check.stable).toBe(false)
    expect(check.driftIndex).toBe(start)
    expect(check.reencodedIds).toEqual(canonicalResponse)
    expect(checkRetokenization(canonicalResponse, tokenizer).stable).toBe(true)

    // the next call re-renders turn 0 from text: same text, canonical ids
    const sampledRecords = [{ ...records[0]!, tokenIds: sampled }, ...records.slice(1)]
    const trajectory = buildTrajectory(sampledRecords, {
      tokenizer,
      specialTokenIds: QWEN3_SPECIAL_TOKEN_IDS,
    })
    expect(trajectory.metrics.breaks).toEqual({ template: 0, retokenization: 1, other: 0 })
    expect(trajectory.breaks[0]!.turnIndex).toBe(1)
    expect(trajectory.breaks[0]!.driftIndex).toBe(records[0]!.promptTokenIds!.length + start)
    // turns 1 and 2 still merge with each other: two sequences, the first holds the sampled ids
    expect(trajectory.sequences.map((sequence) => sequence.turns.length)).toEqual([1, 2])
    expect(trajectory.sequences[0]!.tokenIds.slice(-sampled.length)).toEqual(sampled)
    // without a decoder the same break cannot be told apart from edited history
    expect(
      buildTrajectory(sampledRecords, { specialTokenIds: QWEN3_SPECIAL_TOKEN_IDS }).breaks[0]!.kind,
    ).toBe('other')
  })
})
