// What a client that generates from token ids needs from the server: /tokenize rendering exactly as chat does
// (tools, chat_template_kwargs, continue_final_message), /v1/completions from ids with vLLM's lax integer
// fields and its max_tokens default, the render endpoints behind --enable-scale-out, and policies that answer
// a rendered conversation with the raw markup a model writes.
import type { ChatMessage, ChatTool } from '@vllm-tito/spec'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { post } from './__fixtures__/http'
import type { MockReplyRequest, MockVllmServer } from './mock-vllm-options'
import { startMockVllm } from './start-mock-vllm'

const calculator: ChatTool = {
  type: 'function',
  function: {
    name: 'calculator',
    description: 'Evaluates arithmetic.',
    parameters: { type: 'object', properties: { expression: { type: 'string' } } },
  },
}
const question: ChatMessage[] = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'What is 12 * 7?' },
]

let demo: MockVllmServer
let scaleOut: MockVllmServer
let scripted: MockVllmServer
const seen: MockReplyRequest[] = []
beforeAll(async () => {
  demo = await startMockVllm()
  scaleOut = await startMockVllm({ enableScaleOut: true })
  scripted = await startMockVllm({
    policy: {
      script: (request) => {
        seen.push(request)
        return 'one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen'
      },
    },
  })
})
afterAll(async () => {
  await Promise.all([demo.close(), scaleOut.close(), scripted.close()])
})

const json = async (server: MockVllmServer, path: string, body: unknown) => {
  const answer = await post(server.baseUrl, path, body)
  return { status: answer.status, body: JSON.parse(answer.text) }
}

describe('/tokenize renders as /v1/chat/completions does', () => {
  it('honours tools, chat_template_kwargs, add_generation_prompt and continue_final_message', async () => {
    const tokenizer = demo.tokenizer
    const withTools = await json(demo, '/tokenize', {
      messages: question,
      tools: [calculator],
      chat_template_kwargs: { enable_thinking: false },
    })
    const expected = tokenizer.encodeChat(question, {
      tools: [calculator],
      chatTemplateKwargs: { enable_thinking: false },
      addGenerationPrompt: true,
    })
    expect(withTools.body.tokens).toEqual(expected)
    expect(
      tokenizer.decode(expected).endsWith('<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n'),
    ).toBe(true)
    const chat = await json(demo, '/v1/chat/completions', {
      messages: question,
      tools: [calculator],
      chat_template_kwargs: { enable_thinking: false },
      return_token_ids: true,
    })
    expect(chat.body.prompt_token_ids).toEqual(expected)

    const history = [...question, { role: 'assistant' as const, content: 'It is' }]
    const continued = await json(demo, '/tokenize', {
      messages: history,
      add_generation_prompt: false,
      continue_final_message: true,
    })
    expect(
      tokenizer.decode(continued.body.tokens).endsWith('<|im_start|>assistant\n<think>\n\n</think>\n\nIt is'),
    ).toBe(true)
    const closed = await json(demo, '/tokenize', { messages: history, add_generation_prompt: false })
    expect(closed.body.tokens).toEqual([...continued.body.tokens, 151645, 198])
    expect(closed.body.max_model_len).toBe(40960)
  })
})

describe('/v1/completions from token ids', () => {
  it('reads logprobs: true as 1 and false as 0, as pydantic lax-mode int fields do', async () => {
    // https://docs.pydantic.dev/latest/concepts/conversion_table/ : an `int` field accepts `bool` in lax mode,
    // and vLLM's CompletionRequest.logprobs is `int | None`; Agent Lightning's gateway sends `logprobs: true`
    const prompt = demo.tokenizer.encode('Hello')
    const asOne = await json(demo, '/v1/completions', { prompt, logprobs: true, max_tokens: 3 })
    expect(asOne.status).toBe(200)
    expect(asOne.body.choices[0].logprobs.token_logprobs).toHaveLength(3)
    for (const alternatives of asOne.body.choices[0].logprobs.top_logprobs) {
      expect(Object.keys(alternatives).length).toBeGreaterThanOrEqual(1)
      expect(Object.keys(alternatives).length).toBeLessThanOrEqual(2)
    }
    const asZero = await json(demo, '/v1/completions', { prompt, logprobs: false, max_tokens: 3 })
    expect(asZero.status).toBe(200)
    expect(asZero.body.choices[0].logprobs.top_logprobs.map(Object.keys)).toEqual(
      asZero.body.choices[0].logprobs.tokens.map((token: string) => [token]),
    )
    const notANumber = await json(demo, '/v1/completions', { prompt, logprobs: 'one' })
    expect(notANumber.body.error.message).toBe('logprobs: Input should be a valid integer, got "one"')
  })

  it('stops at 16 tokens when max_tokens is omitted, as CompletionRequest.max_tokens defaults to 16', async () => {
    const prompt = scripted.tokenizer.encodeChat(question, { addGenerationPrompt: true })
    const answer = await json(scripted, '/v1/completions', { prompt, return_token_ids: true })
    expect(answer.body.choices[0].token_ids).toHaveLength(16)
    expect(answer.body.choices[0].finish_reason).toBe('length')
    expect(answer.body.usage).toMatchObject({ prompt_tokens: prompt.length, completion_tokens: 16 })
    // a script sees the rendered conversation the ids stand for
    expect(seen.at(-1)?.conversation).toEqual({ messages: question, tools: [], thinking: true })
  })
})

describe('render endpoints (vLLM --enable-scale-out)', () => {
  it('are a 404 unless the server runs with enableScaleOut', async () => {
    const refused = await post(demo.baseUrl, '/v1/chat/completions/render', { messages: question })
    expect(refused.status).toBe(404)
    expect(refused.text).toBe('{"detail":"Not Found"}')
    expect((await post(demo.baseUrl, '/v1/completions/render', { prompt: 'Hi' })).status).toBe(404)
  })

  it('/v1/chat/completions/render gives the prompt ids chat generates from and its max_tokens default', async () => {
    const request = { messages: question, tools: [calculator] }
    const rendered = await json(scaleOut, '/v1/chat/completions/render', request)
    const chat = await json(scaleOut, '/v1/chat/completions', { ...request, return_token_ids: true })
    expect(rendered.body.token_ids).toEqual(chat.body.prompt_token_ids)
    expect(rendered.body.request_id).toMatch(/^chatcmpl-[0-9a-f]{32}$/)
    expect(rendered.body.sampling_params).toMatchObject({
      max_tokens: 40960 - chat.body.prompt_token_ids.length,
      skip_special_tokens: true,
      stop_token_ids: [],
    })
    expect(Object.keys(rendered.body).slice(0, 6)).toEqual([
      'request_id',
      'token_ids',
      'token_offsets',
      'features',
      'content_parts',
      'sampling_params',
    ])
    const completion = await json(scaleOut, '/v1/completions/render', { prompt: [[9707], [9707, 1052]] })
    expect(completion.body.map((item: { token_ids: number[] }) => item.token_ids)).toEqual([
      [9707],
      [9707, 1052],
    ])
    expect(completion.body[0].sampling_params.max_tokens).toBe(16)
  })
})

describe('policies answer a rendered conversation sent to /v1/completions', () => {
  it('the demo policy thinks and calls the tool in raw hermes markup, then answers from the tool result', async () => {
    const tokenizer = demo.tokenizer
    const prompt = tokenizer.encodeChat(question, { tools: [calculator], addGenerationPrompt: true })
    const call = await json(demo, '/v1/completions', { prompt, max_tokens: 200 })
    const callText =
      '<think>\nThe user wants 12 * 7. I will use the calculator tool.\n</think>\n\n<tool_call>\n{"name": "calculator", "arguments": {"expression": "12 * 7"}}\n</tool_call>'
    expect(call.body.choices[0].text).toBe(callText)
    const afterTool: ChatMessage[] = [
      ...question,
      { role: 'assistant', content: callText },
      { role: 'tool', tool_call_id: 'call-1', content: '84' },
    ]
    const answerPrompt = tokenizer.encodeChat(afterTool, {
      tools: [calculator],
      addGenerationPrompt: true,
      chatTemplateKwargs: { enable_thinking: false },
    })
    const answer = await json(demo, '/v1/completions', { prompt: answerPrompt, max_tokens: 200 })
    expect(answer.body.choices[0].text).toBe('12 * 7 is 84.')
    const plain = await json(demo, '/v1/completions', { prompt: 'Once upon a time', max_tokens: 200 })
    expect(plain.body.choices[0].text).toBe(' Thank you for your message. This is a mock vLLM server.')
  })
})
