// `tools` and `tool_choice` against vLLM's `ChatCompletionRequest.check_tool_usage` validator
// (vllm/entrypoints/openai/chat_completion/protocol.py at vLLM main 001eadcf, ≈ v0.28), over real HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { post } from './__fixtures__/http'
import type { MockVllmMode, MockVllmServer } from './mock-vllm-options'
import { startMockVllm } from './start-mock-vllm'

const CALL_TEXT = '<tool_call>\n{"name": "calculator", "arguments": {"expression": "2+2"}}\n</tool_call>'

const servers = new Map<MockVllmMode, MockVllmServer>()
beforeAll(async () => {
  for (const mode of ['current', 'strict-0.20', 'legacy-0.10'] as const) {
    servers.set(mode, await startMockVllm({ mode, policy: { script: [CALL_TEXT] } }))
  }
})
afterAll(async () => {
  await Promise.all([...servers.values()].map((server) => server.close()))
})

/** The parts of an answer these tests read. */
interface Answer {
  prompt_token_ids: number[]
  choices: Array<{ message: { content: string | null }; finish_reason: string }>
  error: { message: string; type: string; param: string | null; code: number }
}

async function send(mode: MockVllmMode, body: Record<string, unknown>) {
  const result = await post(servers.get(mode)!.baseUrl, '/v1/chat/completions', {
    return_token_ids: true,
    ...body,
  })
  return { status: result.status, body: JSON.parse(result.text) as Answer }
}

describe('tools and tool_choice (protocol.py ChatCompletionRequest.check_tool_usage)', () => {
  const calculator = { type: 'function', function: { name: 'calculator', parameters: { type: 'object' } } }
  const hi = [{ role: 'user', content: 'Hi' }]

  it('refuses `tools: []` with 400 since vllm#39780 (current, strict-0.20)', async () => {
    for (const mode of ['current', 'strict-0.20'] as const) {
      const { status, body } = await send(mode, { messages: hi, tools: [] })
      expect(status).toBe(400)
      expect(body.error).toEqual({
        message:
          '`tools` must not be an empty array. Either provide at least one tool or omit the field entirely.',
        type: 'BadRequestError',
        param: 'tools',
        code: 400,
      })
    }
  })

  it('legacy-0.10: `tools: []` renders as no tools and tool_choice stays "none"', async () => {
    const { status, body } = await send('legacy-0.10', { messages: hi, tools: [] })
    expect(status).toBe(200)
    expect(servers.get('legacy-0.10')!.tokenizer.decode(body.prompt_token_ids)).toBe(
      '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n',
    )
    // tool_choice stayed "none": the output is not parsed as a tool call
    expect(body.choices[0]!.message.content).toBe(CALL_TEXT)
  })

  it('refuses tool_choice without tools, an unknown tool_choice and a named tool that is not offered', async () => {
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ tool_choice: 'auto' }, 'When using `tool_choice`, `tools` must be set.', 'tool_choice'],
      [
        { tools: [calculator], tool_choice: 'sometimes' },
        'Invalid value for `tool_choice`: sometimes! Only named tools, "none", "auto" or "required" are supported.',
        'tool_choice',
      ],
      [
        { tools: [calculator], tool_choice: { type: 'function', function: { name: 'search' } } },
        'The tool specified in `tool_choice` does not match any of the specified `tools`',
        'tool_choice',
      ],
      [
        { tools: [calculator], tool_choice: { type: 'function', function: {} } },
        'Expected field `name` in `function` in `tool_choice`! Correct usage: `{"type": "function", "function": {"name": "my_function"}}`',
        'tool_choice.function.name',
      ],
    ]
    for (const [fields, message, param] of cases) {
      const { status, body } = await send('current', { messages: hi, ...fields })
      expect(status).toBe(400)
      expect(body.error).toMatchObject({ message, param })
    }
  })

  it('tool_choice "none" still renders the tools and leaves tool-call text as content', async () => {
    const { body } = await send('current', { messages: hi, tools: [calculator], tool_choice: 'none' })
    expect(servers.get('current')!.tokenizer.decode(body.prompt_token_ids)).toContain(
      '<tools>\n{"type": "function", "function": {"name": "calculator"',
    )
    expect(body.choices[0]!.message.content).toBe(CALL_TEXT)
    expect(body.choices[0]!.finish_reason).toBe('stop')
  })
})
