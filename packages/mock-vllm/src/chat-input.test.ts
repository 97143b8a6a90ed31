// The input side of the mock against vLLM's: what happens to incoming chat messages before the chat template
// runs, over real HTTP. "chat_utils.py" is vllm/entrypoints/chat_utils.py and "protocol.py" is
// vllm/entrypoints/openai/chat_completion/protocol.py, both read at vLLM main 001eadcf (≈ v0.28); older
// behaviour is named by the PR that changed it. docs/vllm-input-side.md has the facts with links.
import type { ChatMessage } from '@vllm-tito/spec'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { post } from './__fixtures__/http'
import type { MockVllmMode, MockVllmServer } from './mock-vllm-options'
import { startMockVllm } from './start-mock-vllm'

const servers = new Map<MockVllmMode, MockVllmServer>()
beforeAll(async () => {
  for (const mode of ['current', 'strict-0.20', 'legacy-0.10', 'pre-0.10.2'] as const) {
    servers.set(mode, await startMockVllm({ mode, policy: { script: ['ok'] } }))
  }
})
afterAll(async () => {
  await Promise.all([...servers.values()].map((server) => server.close()))
})

function server(mode: MockVllmMode): MockVllmServer {
  return servers.get(mode)!
}

/** The parts of an answer these tests read. */
interface Answer {
  prompt_token_ids?: number[]
  tokens?: number[]
  error: { message: string; type: string; param: string | null; code: number }
}

/** POSTs to `path` of the `mode` server and returns the status and parsed body. */
async function send(mode: MockVllmMode, path: string, body: Record<string, unknown>) {
  const result = await post(server(mode).baseUrl, path, { max_tokens: 1, ...body })
  return { status: result.status, body: JSON.parse(result.text) as Answer }
}

/** The prompt the `mode` server rendered for `body`, decoded from its `prompt_token_ids`. */
async function renderedPrompt(mode: MockVllmMode, body: Record<string, unknown>): Promise<string> {
  const { status, body: response } = await send(mode, '/v1/chat/completions', {
    ...body,
    return_token_ids: true,
  })
  expect(status, JSON.stringify(response)).toBe(200)
  return server(mode).tokenizer.decode(response.prompt_token_ids!)
}

/** The prompt of `/tokenize` (chat form), decoded. */
async function tokenizedPrompt(mode: MockVllmMode, body: Record<string, unknown>): Promise<string> {
  const { status, body: response } = await send(mode, '/tokenize', body)
  expect(status, JSON.stringify(response)).toBe(200)
  return server(mode).tokenizer.decode(response.tokens!)
}

const userTurn = (text: string) => `<|im_start|>user\n${text}<|im_end|>\n`
const OPEN_ASSISTANT = '<|im_start|>assistant\n'
const CALL_TEXT = '<tool_call>\n{"name": "calculator", "arguments": {"expression": "2+2"}}\n</tool_call>'
const calculatorCall = {
  id: 'call-1',
  type: 'function',
  function: { name: 'calculator', arguments: '{"expression":"2+2"}' },
}

/** A thinking model's tool loop one call in: the replayed assistant turn carries `reasoningFields`. */
function toolLoop(reasoningFields: Record<string, unknown>): ChatMessage[] {
  return [
    { role: 'user', content: 'What is 2+2?' },
    {
      role: 'assistant',
      content: '',
      tool_calls: [calculatorCall] as ChatMessage['tool_calls'],
      ...reasoningFields,
    },
    { role: 'tool', tool_call_id: 'call-1', content: '4' },
  ]
}

const toolResultTurn = '<|im_start|>user\n<tool_response>\n4\n</tool_response><|im_end|>\n'
const WITH_THINKING = `${userTurn('What is 2+2?')}${OPEN_ASSISTANT}<think>\nI should add.\n</think>\n\n${CALL_TEXT}<|im_end|>\n${toolResultTurn}${OPEN_ASSISTANT}`
const WITHOUT_THINKING = `${userTurn('What is 2+2?')}${OPEN_ASSISTANT}${CALL_TEXT}<|im_end|>\n${toolResultTurn}${OPEN_ASSISTANT}`

describe('reasoning of replayed assistant turns, by generation', () => {
  const reasoning = '\nI should add.\n'

  it('current: `reasoning` is read and handed to the template (chat_utils.py _parse_chat_message_content, vllm#33635)', async () => {
    expect(await renderedPrompt('current', { messages: toolLoop({ reasoning }) })).toBe(WITH_THINKING)
  })

  it('current: `reasoning_content` alone is renamed to `reasoning` first (protocol.py _normalize_messages_before, vllm#42664)', async () => {
    expect(await renderedPrompt('current', { messages: toolLoop({ reasoning_content: reasoning }) })).toBe(
      WITH_THINKING,
    )
  })

  it('current: with both names `reasoning` wins (the rename only fills a missing or null `reasoning`)', async () => {
    const prompt = await renderedPrompt('current', {
      messages: toolLoop({ reasoning, reasoning_content: 'something else' }),
    })
    expect(prompt).toBe(WITH_THINKING)
  })

  it('current: /tokenize still ignores `reasoning_content` (the rename lives on ChatCompletionRequest only, vllm#52513 open)', async () => {
    expect(await tokenizedPrompt('current', { messages: toolLoop({ reasoning_content: reasoning }) })).toBe(
      WITHOUT_THINKING,
    )
    expect(await tokenizedPrompt('current', { messages: toolLoop({ reasoning }) })).toBe(WITH_THINKING)
  })

  it('strict-0.20: `reasoning_content` is ignored, so Qwen3 renders the turn without its <think> block (vllm#33402, vllm#38488)', async () => {
    expect(
      await renderedPrompt('strict-0.20', { messages: toolLoop({ reasoning_content: reasoning }) }),
    ).toBe(WITHOUT_THINKING)
    expect(await renderedPrompt('strict-0.20', { messages: toolLoop({ reasoning }) })).toBe(WITH_THINKING)
    expect(
      await renderedPrompt('strict-0.20', {
        messages: toolLoop({ reasoning, reasoning_content: reasoning }),
      }),
    ).toBe(WITH_THINKING)
  })

  it('legacy-0.10: neither name reaches the template (chat_utils.py before interleaved thinking, vllm#28531)', async () => {
    for (const fields of [
      { reasoning },
      { reasoning_content: reasoning },
      { reasoning, reasoning_content: reasoning },
    ]) {
      expect(await renderedPrompt('legacy-0.10', { messages: toolLoop(fields) })).toBe(WITHOUT_THINKING)
    }
  })

  it('every generation: a <think> block inside content is split off by the Qwen3 template itself', async () => {
    const messages = toolLoop({})
    messages[1] = { ...messages[1]!, content: `<think>${reasoning}</think>\n\n` }
    for (const mode of ['current', 'strict-0.20', 'legacy-0.10'] as const) {
      expect(await renderedPrompt(mode, { messages })).toBe(WITH_THINKING)
    }
  })

  it('reasoning is only read from assistant messages (chat_utils.py: role == "assistant")', async () => {
    const prompt = await renderedPrompt('current', {
      messages: [{ role: 'user', content: 'Hi', reasoning: 'not mine', reasoning_content: 'not mine' }],
    })
    expect(prompt).toBe(`${userTurn('Hi')}${OPEN_ASSISTANT}`)
  })
})

describe('content flattening (chat_utils.py _parse_chat_message_content_parts, "string" content format)', () => {
  it('joins text parts with "\\n"; plain strings, input_text, output_text, refusal and thinking parts are text', async () => {
    const content = [
      { type: 'text', text: 'a' },
      'b',
      { type: 'input_text', text: 'c' },
      { type: 'output_text', text: 'd' },
      { type: 'refusal', refusal: 'e' },
      { type: 'thinking', thinking: 'f' },
    ]
    expect(await renderedPrompt('current', { messages: [{ role: 'user', content }] })).toBe(
      `${userTurn('a\nb\nc\nd\ne\nf')}${OPEN_ASSISTANT}`,
    )
  })

  it('skips a text part whose text is missing or empty, adding no separator (`if parse_res:`)', async () => {
    const content = [{ type: 'text', text: 'a' }, { type: 'text' }, { type: 'text', text: '' }, 'b']
    expect(await renderedPrompt('current', { messages: [{ role: 'user', content }] })).toBe(
      `${userTurn('a\nb')}${OPEN_ASSISTANT}`,
    )
  })

  it('renders null or missing content as an empty string (chat_utils.py: `if content is None: content = []`)', async () => {
    for (const assistant of [
      { role: 'assistant', content: null, tool_calls: [calculatorCall] },
      { role: 'assistant', tool_calls: [calculatorCall] },
    ]) {
      const prompt = await renderedPrompt('current', {
        messages: [{ role: 'user', content: 'What is 2+2?' }, assistant, { role: 'tool', content: '4' }],
      })
      expect(prompt).toBe(WITHOUT_THINKING)
    }
  })

  it('flattens a tool message given as a list of text parts the same way', async () => {
    const messages = toolLoop({})
    messages[2] = {
      role: 'tool',
      tool_call_id: 'call-1',
      content: [
        { type: 'text', text: '4' },
        { type: 'text', text: '(exact)' },
      ],
    }
    expect(await renderedPrompt('current', { messages })).toBe(
      `${userTurn('What is 2+2?')}${OPEN_ASSISTANT}${CALL_TEXT}<|im_end|>\n<|im_start|>user\n<tool_response>\n4\n(exact)\n</tool_response><|im_end|>\n${OPEN_ASSISTANT}`,
    )
  })

  it('answers an unknown part type with 400 and the list of known ones (chat_utils.py _parse_chat_message_content_part)', async () => {
    const { status, body } = await send('current', '/v1/chat/completions', {
      messages: [{ role: 'user', content: [{ type: 'sticker', sticker: ':)' }] }],
    })
    expect(status).toBe(400)
    expect(body.error).toEqual({
      message:
        "Unsupported chat content part type: 'sticker'. Supported types: audio_embeds, audio_url, image_embeds, image_pil, image_url, input_audio, input_image, input_text, output_text, prompt_embeds, refusal, text, thinking, tool_reference, video_url.",
      type: 'BadRequestError',
      param: 'type',
      code: 400,
    })
  })

  it("refuses media parts: the served Qwen3 model is text-only (the text is the mock's own, see the README)", async () => {
    const { status, body } = await send('current', '/v1/chat/completions', {
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:,' } }] }],
    })
    expect(status).toBe(400)
    expect(body.error.message).toBe(
      "messages[0].content[0]: mock-vllm serves a text-only model and cannot take a content part of type 'image_url'",
    )
  })
})

describe('tool-call arguments (chat_utils.py _postprocess_messages)', () => {
  const withArguments = (argumentsText: string | undefined) => [
    { role: 'user', content: 'What is 2+2?' },
    {
      role: 'assistant',
      content: '',
      tool_calls: [{ ...calculatorCall, function: { name: 'calculator', arguments: argumentsText } }],
    },
    { role: 'tool', content: '4' },
  ]
  const callWith = (argumentsJson: string) =>
    `${userTurn('What is 2+2?')}${OPEN_ASSISTANT}<tool_call>\n{"name": "calculator", "arguments": ${argumentsJson}}\n</tool_call><|im_end|>\n${toolResultTurn}${OPEN_ASSISTANT}`

  it('parses the JSON text, so the template re-serialises it with Python spacing', async () => {
    expect(await renderedPrompt('current', { messages: withArguments('{"expression":"2+2"}') })).toBe(
      WITHOUT_THINKING,
    )
  })

  it('current: arguments that are not JSON render as {} (the try/except of vllm#48922)', async () => {
    expect(await renderedPrompt('current', { messages: withArguments('{"expression": 2+2}') })).toBe(
      callWith('{}'),
    )
  })

  it("strict-0.20: arguments that are not JSON are a 400 carrying Python's JSONDecodeError text (vllm#47761, vllm#43995)", async () => {
    const { status, body } = await send('strict-0.20', '/v1/chat/completions', {
      messages: withArguments('{"expression": 2+2}'),
    })
    expect(status).toBe(400)
    expect(body.error).toEqual({
      message: "Expecting ',' delimiter: line 1 column 17 (char 16)",
      type: 'BadRequestError',
      param: null,
      code: 400,
    })
  })

  it('legacy-0.10: the same 400 ends with " None" (serving_chat.py answered f"{e} {e.__cause__}")', async () => {
    const { status, body } = await send('legacy-0.10', '/v1/chat/completions', {
      messages: withArguments('{"expression": "2+2"'),
    })
    expect(status).toBe(400)
    expect(body.error.message).toBe("Expecting ',' delimiter: line 1 column 21 (char 20) None")
  })

  it("empty or missing arguments render as {} since v0.11.0 (vllm#25223); v0.10.1 answered json.loads('')'s 400", async () => {
    for (const mode of ['current', 'strict-0.20', 'legacy-0.10'] as const) {
      expect(await renderedPrompt(mode, { messages: withArguments('') })).toBe(callWith('{}'))
      expect(await renderedPrompt(mode, { messages: withArguments(undefined) })).toBe(callWith('{}'))
    }
    const { status, body } = await send('pre-0.10.2', '/v1/chat/completions', { messages: withArguments('') })
    expect(status).toBe(400)
    expect(body.error.message).toBe('Expecting value: line 1 column 1 (char 0) None')
  })

  it('renders an empty tool_calls list like none (chat_utils.py drops it "to keep templates on the normal assistant path")', async () => {
    const messages = [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello.', tool_calls: [] },
      { role: 'user', content: 'Bye' },
    ]
    expect(await renderedPrompt('current', { messages })).toBe(
      `${userTurn('Hi')}${OPEN_ASSISTANT}Hello.<|im_end|>\n${userTurn('Bye')}${OPEN_ASSISTANT}`,
    )
  })
})

describe('message keys (chat_utils.py builds a new ConversationMessage per message)', () => {
  it('drops keys it does not copy, and copies `name` (which the Qwen3 template does not print)', async () => {
    const plain = await renderedPrompt('current', {
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
      ],
    })
    const decorated = await renderedPrompt('current', {
      messages: [
        { role: 'system', content: 'Be brief.', name: 'rules', cache_control: { type: 'ephemeral' } },
        { role: 'user', content: 'Hi', name: 'alice', metadata: { id: 7 }, tool_call_id: 'ignored' },
      ],
    })
    expect(decorated).toBe(plain)
    expect(plain).toBe(`<|im_start|>system\nBe brief.<|im_end|>\n${userTurn('Hi')}${OPEN_ASSISTANT}`)
  })
})

describe('system message placement (vLLM keeps the order; the Qwen3 template decides)', () => {
  it('renders a system message that is not first where it stands', async () => {
    const messages = [
      { role: 'user', content: 'Hi' },
      { role: 'system', content: 'Now answer in French.' },
      { role: 'user', content: 'Bye' },
    ]
    expect(await renderedPrompt('current', { messages })).toBe(
      `${userTurn('Hi')}<|im_start|>system\nNow answer in French.<|im_end|>\n${userTurn('Bye')}${OPEN_ASSISTANT}`,
    )
  })

  it('puts a first system message in front of the tools block, flattened from parts', async () => {
    const prompt = await renderedPrompt('current', {
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'Be brief.' }] },
        { role: 'user', content: 'Hi' },
      ],
      tools: [{ type: 'function', function: { name: 'ping' } }],
    })
    expect(prompt.startsWith('<|im_start|>system\nBe brief.\n\n# Tools\n\n')).toBe(true)
    expect(prompt.endsWith(`</tool_call><|im_end|>\n${userTurn('Hi')}${OPEN_ASSISTANT}`)).toBe(true)
  })

  it('passes a developer message through, which the Qwen3 template does not print', async () => {
    const messages = [
      { role: 'developer', content: 'Secret rules.' },
      { role: 'user', content: 'Hi' },
    ]
    expect(await renderedPrompt('current', { messages })).toBe(`${userTurn('Hi')}${OPEN_ASSISTANT}`)
  })
})
