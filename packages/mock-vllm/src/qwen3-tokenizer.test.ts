import type { ChatMessage, ChatTool } from '@vllm-tito/spec'
import { beforeAll, describe, expect, it } from 'vitest'
import { loadQwen3Tokenizer, type Qwen3Tokenizer } from './qwen3-tokenizer'

const calculator: ChatTool = {
  type: 'function',
  function: {
    name: 'calculator',
    description: 'Evaluates arithmetic',
    parameters: { type: 'object', properties: { expression: { type: 'string' } }, required: ['expression'] },
  },
}

const toolSystemPrompt =
  '<|im_start|>system\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n' +
  'You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n' +
  '{"type": "function", "function": {"name": "calculator", "description": "Evaluates arithmetic", "parameters": {"type": "object", "properties": {"expression": {"type": "string"}}, "required": ["expression"]}}}\n' +
  '</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n' +
  '<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call><|im_end|>\n'

let tokenizer: Qwen3Tokenizer

beforeAll(async () => {
  tokenizer = await loadQwen3Tokenizer()
})

describe('loadQwen3Tokenizer', () => {
  it('loads in under 2 s and caches the promise', async () => {
    // a fresh module instance measures a cold load, not the cache of this file's beforeAll
    const { loadQwen3Tokenizer: coldLoad } = await import(`./qwen3-tokenizer?cold=${Date.now()}`)
    const started = performance.now()
    const cold = await coldLoad()
    expect(performance.now() - started).toBeLessThan(2000)
    expect(coldLoad()).toBe(coldLoad())
    expect(cold.eosTokenId).toBe(151645)
    expect(await loadQwen3Tokenizer()).toBe(tokenizer)
  })
})

describe('Qwen3Tokenizer', () => {
  it('encodes HAVING canonically as HAV + ING', () => {
    expect(tokenizer.encode('HAVING')).toEqual([72239, 1718])
    expect(tokenizer.tokenStrings([72239, 1718])).toEqual(['HAV', 'ING'])
  })

  it('decodes the non-canonical H + AVING to the same text', () => {
    expect(tokenizer.decode([39, 83722])).toBe('HAVING')
    expect(tokenizer.encode(tokenizer.decode([39, 83722]))).toEqual([72239, 1718])
  })

  it('knows <|im_end|> and parses special tokens written in text', () => {
    expect(tokenizer.eosTokenId).toBe(151645)
    expect(tokenizer.encode('<|im_start|>user\nHi<|im_end|>')).toEqual([151644, 872, 198, 13048, 151645])
    expect(tokenizer.decode([151644, 872, 198, 13048, 151645])).toBe('<|im_start|>user\nHi<|im_end|>')
    expect(tokenizer.isSpecialToken(151645)).toBe(true)
    expect(tokenizer.isSpecialToken(151657)).toBe(false)
    expect(tokenizer.isAddedToken(151657)).toBe(true)
  })

  it('returns raw BPE pieces as token strings', () => {
    const ids = tokenizer.encode(' Efficiency\nnaïve')
    expect(tokenizer.tokenStrings(ids)).toEqual(['ĠEfficiency', 'Ċ', 'na', 'Ã¯', 've'])
  })

  it('gives the byte-level bytes of a piece', () => {
    expect([...tokenizer.tokenBytes(tokenizer.idOfPiece('ĠEff')!)]).toEqual([32, 69, 102, 102])
    expect(new TextDecoder().decode(tokenizer.tokenBytes(151667))).toBe('<think>')
  })

  it('renders a two-turn conversation with a tool call and a tool result exactly (golden)', () => {
    const messages: ChatMessage[] = [
      { role: 'user', content: 'What is 2 + 2?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call-1',
            type: 'function',
            function: { name: 'calculator', arguments: '{"expression":"2 + 2"}' },
          },
        ],
      },
      { role: 'tool', content: '4', tool_call_id: 'call-1' },
      { role: 'assistant', content: '2 + 2 = 4.' },
      { role: 'user', content: 'Thanks!' },
    ]
    expect(tokenizer.renderChat(messages, { tools: [calculator] })).toBe(
      toolSystemPrompt +
        '<|im_start|>user\nWhat is 2 + 2?<|im_end|>\n' +
        '<|im_start|>assistant\n<tool_call>\n{"name": "calculator", "arguments": {"expression": "2 + 2"}}\n</tool_call><|im_end|>\n' +
        '<|im_start|>user\n<tool_response>\n4\n</tool_response><|im_end|>\n' +
        '<|im_start|>assistant\n2 + 2 = 4.<|im_end|>\n' +
        '<|im_start|>user\nThanks!<|im_end|>\n' +
        '<|im_start|>assistant\n',
    )
  })

  it('keeps reasoning of the turn after the last user query and honours enable_thinking', () => {
    const messages: ChatMessage[] = [
      { role: 'user', content: 'What is 2 + 2?' },
      {
        role: 'assistant',
        content: '',
        reasoning_content: 'I should use the calculator.',
        tool_calls: [
          { id: 'c', type: 'function', function: { name: 'calculator', arguments: '{"expression": "2+2"}' } },
        ],
      },
      { role: 'tool', content: '4' },
    ]
    expect(tokenizer.renderChat(messages, { chatTemplateKwargs: { enable_thinking: false } })).toBe(
      '<|im_start|>user\nWhat is 2 + 2?<|im_end|>\n' +
        '<|im_start|>assistant\n<think>\nI should use the calculator.\n</think>\n\n<tool_call>\n{"name": "calculator", "arguments": {"expression": "2+2"}}\n</tool_call><|im_end|>\n' +
        '<|im_start|>user\n<tool_response>\n4\n</tool_response><|im_end|>\n' +
        '<|im_start|>assistant\n<think>\n\n</think>\n\n',
    )
  })

  it('prepares the messages with the input side of the chosen vLLM generation', () => {
    const messages: ChatMessage[] = [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello.', reasoning_content: 'Greet back.' },
    ]
    const withThinking =
      '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\nGreet back.\n</think>\n\nHello.<|im_end|>\n'
    // Qwen3's template gives the last assistant turn a think block in any case: an empty one when the
    // server did not hand the reasoning over
    const withoutThinking =
      '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nHello.<|im_end|>\n'
    expect(tokenizer.renderChat(messages, { addGenerationPrompt: false })).toBe(withThinking)
    expect(tokenizer.renderChat(messages, { addGenerationPrompt: false, mode: 'strict-0.20' })).toBe(
      withoutThinking,
    )
    expect(tokenizer.renderChat(messages, { addGenerationPrompt: false, mode: 'legacy-0.10' })).toBe(
      withoutThinking,
    )
  })

  it('renders description and parameters as null when a tool omits them (vLLM model_dump)', () => {
    const rendered = tokenizer.renderChat([{ role: 'user', content: 'x' }], {
      tools: [{ type: 'function', function: { name: 'ping' } }],
      addGenerationPrompt: false,
    })
    expect(rendered).toContain(
      '\n{"type": "function", "function": {"name": "ping", "description": null, "parameters": null}}\n',
    )
    expect(rendered.endsWith('<|im_start|>user\nx<|im_end|>\n')).toBe(true)
  })

  it('encodeChat equals encode(renderChat)', () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ]
    expect(tokenizer.encodeChat(messages)).toEqual([
      151644, 8948, 198, 3430, 9814, 13, 151645, 198, 151644, 872, 198, 13048, 151645, 198, 151644, 77091,
      198,
    ])
    expect(tokenizer.encodeChat(messages)).toEqual(tokenizer.encode(tokenizer.renderChat(messages)))
  })
})
