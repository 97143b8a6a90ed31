// Token-in mode against the real Qwen3 tokenizer and chat template (mock-vllm over HTTP): every appended
// delta is what the template renders for those messages when the whole conversation is rendered from scratch,
// every prompt is the previous prompt + response + delta, and a multi-turn rollout is one training sequence
// where chat mode gives several.
import { MaxTokensError, type Message } from '@strands-agents/sdk'
import { type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import { extractTokenRecord, MESSAGE_METADATA_KEY, type TokenRecord } from '@vllm-tito/spec'
import { buildTrajectory, QWEN3_SPECIAL_TOKEN_IDS } from '@vllm-tito/trajectory'
import { VLLMToolValidationHooks } from '@vllm-tito/validation/strands'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  calculatorAgent,
  calculatorPolicy,
  IM_END,
  renderedSettings,
  replyPositions,
  SYSTEM_PROMPT,
  templateTail,
} from '../__fixtures__/token-in-rollouts'
import { formatChatMessages } from '../format-chat-messages'

let server: MockVllmServer
beforeAll(async () => {
  // the render endpoint shows what the chat endpoint would generate from
  server = await startMockVllm({ policy: { script: calculatorPolicy }, enableScaleOut: true })
})
afterAll(async () => {
  await server.close()
})

/**
 * Checks every call of a token-in rollout: the first renders, each later one keeps the previous prompt and
 * response unchanged and appends exactly the template's rendering of the messages in between, in segments
 * that cover the appended ids. Returns the segment kinds and decoded texts of each appended call.
 */
function expectExactAppends(messages: readonly Message[], records: TokenRecord[]): string[][] {
  const tokenizer = server.tokenizer
  const settings = renderedSettings(server)
  const positions = replyPositions(messages)
  expect(positions).toHaveLength(records.length)
  const appends: string[][] = []
  records.forEach((record, call) => {
    const onMessage = extractTokenRecord(messages[positions[call]!]!.metadata?.custom?.[MESSAGE_METADATA_KEY])
    expect(onMessage?.responseId).toBe(record.responseId)
    expect(record.verification.status).toBe('verified')
    if (call === 0) {
      expect(record.tokenIn).toEqual({
        mode: 'rendered',
        renderReason: 'first-call',
        detail: null,
        keptLength: 0,
        segments: [],
      })
      return
    }
    const previous = records[call - 1]!
    const kept = [...previous.promptTokenIds!, ...previous.tokenIds!]
    const prompt = record.promptTokenIds!
    expect(record.tokenIn?.mode).toBe('appended')
    expect(record.tokenIn?.keptLength).toBe(kept.length)
    expect(prompt.slice(0, kept.length)).toEqual(kept)
    const appended = prompt.slice(kept.length)
    const replyClosed = previous.tokenIds!.at(-1) === IM_END
    const expected = templateTail(tokenizer, messages, positions[call - 1]!, positions[call]!, {
      ...settings,
      replyClosed,
    })
    expect(appended).toEqual(expected)
    const segments = record.tokenIn!.segments
    expect(segments[0]?.start).toBe(kept.length)
    expect(segments.at(-1)?.end).toBe(prompt.length)
    expect(segments.slice(1).map((segment) => segment.start)).toEqual(
      segments.slice(0, -1).map((segment) => segment.end),
    )
    appends.push(
      segments.map((segment) => {
        const roles = segment.roles.length > 0 ? `(${segment.roles.join(',')})` : ''
        return `${segment.kind}${roles} ${JSON.stringify(tokenizer.decode(prompt.slice(segment.start, segment.end)))}`
      }),
    )
  })
  return appends
}

const toolResult = (result: string) =>
  `messages(tool) "<|im_start|>user\\n<tool_response>\\n${result}\\n</tool_response><|im_end|>"`
const userTurn = (text: string) => `messages(user) "<|im_start|>user\\n${text}<|im_end|>"`
const separator = 'separator "\\n"'
const openTurn = (thinking: boolean) =>
  `generation-prompt "<|im_start|>assistant\\n${thinking ? '' : '<think>\\n\\n</think>\\n\\n'}"`

describe.each([true, false])('token-in with Qwen3, thinking %s', (thinking) => {
  it('two user turns with a tool call each: 4 calls, exact deltas, one sequence (chat mode gives several)', async () => {
    const tokenIn = calculatorAgent(server, { tokenIn: true, thinking })
    expect(String(await tokenIn.agent.invoke('What is 12 * 7?'))).toContain('The answer is 84.')
    expect(String(await tokenIn.agent.invoke('Now what is 3 + 4?'))).toContain('The answer is 7.')
    expect(tokenIn.records).toHaveLength(4)
    // the first prompt is exactly what /v1/chat/completions renders for the same request
    const { tools, chatTemplateKwargs } = renderedSettings(server)
    const firstMessages = formatChatMessages(tokenIn.agent.messages.slice(0, 1), SYSTEM_PROMPT)
    const render = await fetch(`${server.baseUrl}/v1/chat/completions/render`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: firstMessages, tools, chat_template_kwargs: chatTemplateKwargs }),
    })
    expect(((await render.json()) as { token_ids: number[] }).token_ids).toEqual(
      tokenIn.records[0]!.promptTokenIds,
    )
    expect(expectExactAppends(tokenIn.agent.messages, tokenIn.records)).toEqual([
      [separator, toolResult('84'), separator, openTurn(thinking)],
      [separator, userTurn('Now what is 3 + 4?'), separator, openTurn(thinking)],
      [separator, toolResult('7'), separator, openTurn(thinking)],
    ])
    const options = { specialTokenIds: QWEN3_SPECIAL_TOKEN_IDS }
    const trajectory = buildTrajectory(tokenIn.records, options)
    expect(trajectory.metrics).toMatchObject({ sequences: 1, turnsMerged: 3, turnsExcluded: 0 })
    expect(trajectory.sequences[0]!.tokenIds).toEqual([
      ...tokenIn.records[3]!.promptTokenIds!,
      ...tokenIn.records[3]!.tokenIds!,
    ])

    const chat = calculatorAgent(server, { tokenIn: false, thinking })
    await chat.agent.invoke('What is 12 * 7?')
    await chat.agent.invoke('Now what is 3 + 4?')
    const chatTrajectory = buildTrajectory(chat.records, options)
    // thinking on, the template drops the earlier turns' reasoning at the new user turn; thinking off, it never
    // renders the empty think block of the generation prompt again, so every call breaks
    expect(chatTrajectory.metrics.sequences).toBe(thinking ? 2 : 4)
    expect(chatTrajectory.breaks.every((finding) => finding.kind === 'template')).toBe(true)
    expect(chat.records.map((record) => record.tokenIds)).toEqual(
      tokenIn.records.map((record) => record.tokenIds),
    )
  })

  it('parallel calls: both results are one tool turn, appended as the template renders it', async () => {
    const { agent, records } = calculatorAgent(server, { tokenIn: true, thinking })
    expect(String(await agent.invoke('What are 12 * 7 and 9 - 5?'))).toContain('The answer is 84 and 4.')
    expect(records[0]!.toolCalls.map((toolCall) => toolCall.arguments)).toEqual([
      '{"expression": "12 * 7"}',
      '{"expression": "9 - 5"}',
    ])
    expect(expectExactAppends(agent.messages, records)).toEqual([
      [
        separator,
        `messages(tool,tool) "<|im_start|>user\\n<tool_response>\\n84\\n</tool_response>\\n<tool_response>\\n4\\n</tool_response><|im_end|>"`,
        separator,
        openTurn(thinking),
      ],
    ])
    expect(buildTrajectory(records).metrics.sequences).toBe(1)
  })

  it('a reply cut by max_tokens gets its end-of-turn token as a prompt token (mask 0) before the next turn', async () => {
    const { agent, model, records } = calculatorAgent(server, {
      tokenIn: true,
      thinking,
      model: { maxTokens: 12 },
    })
    const cut = await agent.invoke('Tell me a story.').catch((error: unknown) => error)
    expect(cut).toBeInstanceOf(MaxTokensError)
    expect(records[0]!.finishReason).toBe('length')
    expect(records[0]!.tokenIds).toHaveLength(12)
    // the agent does not keep a cut reply; a caller that wants to go on adds it, as it was produced
    agent.messages.push((cut as MaxTokensError).partialMessage)
    model.updateConfig({ maxTokens: 200 })
    expect(String(await agent.invoke('What is 12 * 7?'))).toContain('The answer is 84.')
    expect(expectExactAppends(agent.messages, records)).toEqual([
      ['closing "<|im_end|>"', separator, userTurn('What is 12 * 7?'), separator, openTurn(thinking)],
      [separator, toolResult('84'), separator, openTurn(thinking)],
    ])
    const trajectory = buildTrajectory(records, { specialTokenIds: QWEN3_SPECIAL_TOKEN_IDS })
    expect(trajectory.metrics.sequences).toBe(1)
    const sequence = trajectory.sequences[0]!
    const closing = sequence.turns[1]!.tokenInSegments![0]!
    expect(closing.kind).toBe('closing')
    expect(sequence.tokenIds[closing.start]).toBe(IM_END)
    expect(sequence.lossMask[closing.start]).toBe(0)
    expect(sequence.lossMask[closing.start - 1]).toBe(1)
  })

  it('an invalid tool call is kept raw, answered by the validation hooks, and its error appended exactly', async () => {
    const hooks = new VLLMToolValidationHooks()
    const { agent, records } = calculatorAgent(server, { tokenIn: true, thinking, plugins: [hooks] })
    expect(String(await agent.invoke('broken: What is 12 * 7?'))).toContain('I could not compute it.')
    expect(records[0]!.toolCalls).toEqual([
      {
        index: 0,
        id: `${records[0]!.responseId}-tool-0`,
        name: 'calculator',
        arguments: '{"expression": 12 * 7}',
      },
    ])
    const [appends] = expectExactAppends(agent.messages, records)
    expect(appends![1]).toMatch(
      /^messages\(tool\) "<\|im_start\|>user\\n<tool_response>\\nError: .*not valid JSON/,
    )
    expect(buildTrajectory(records).metrics.sequences).toBe(1)
  })
})
