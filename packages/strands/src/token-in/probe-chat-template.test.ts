// The first-call check of token-in mode: the real Qwen3 template (mock-vllm's /tokenize over HTTP) passes with
// thinking on and off; templates of other families are refused with a TokenInError that says what they render.
import { VLLMClient } from '@vllm-tito/client'
import { type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import type { ChatMessage, RenderedChatTemplate } from '@vllm-tito/spec'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ProbeRenderer, probeChatTemplate } from './probe-chat-template'
import { TokenInError } from './token-in-error'

let server: MockVllmServer
beforeAll(async () => {
  server = await startMockVllm()
})
afterAll(async () => {
  await server.close()
})

const SPECIAL = /(<\|[a-z_]+\|>|<\/?tool_call>|<\/?think>)/

/**
 * A renderer for a template written as a function of the messages: the text is cut into pieces the way a
 * byte-level tokenizer writes them (special tokens whole, a space as `Ġ`, a newline as `Ċ`), each piece with a
 * stable id, so equal text gives equal ids.
 */
function fakeRenderer(template: (messages: ChatMessage[]) => string, withStrings = true): ProbeRenderer {
  const ids = new Map<string, number>()
  return async (messages): Promise<RenderedChatTemplate> => {
    const pieces = template(messages)
      .split(SPECIAL)
      .filter((part) => part !== '')
      .flatMap((part) => (SPECIAL.test(part) ? [part] : [...part].map((character) => byteLevel(character))))
    const tokenIds = pieces.map((piece) => {
      if (!ids.has(piece)) ids.set(piece, ids.size + 1)
      return ids.get(piece)!
    })
    return { tokenIds, tokenStrings: withStrings ? pieces : null, maxModelLen: 8192 }
  }
}

function byteLevel(character: string): string {
  return character === ' ' ? 'Ġ' : character === '\n' ? 'Ċ' : character
}

const hermesCall = (message: ChatMessage) =>
  (message.tool_calls ?? [])
    .map(
      (call) =>
        `\n<tool_call>\n{"name": "${call.function.name}", "arguments": ${call.function.arguments}}\n</tool_call>`,
    )
    .join('')

const chatml = (messages: ChatMessage[]) =>
  messages
    .map((message) => `<|im_start|>${message.role}\n${message.content}${hermesCall(message)}<|im_end|>\n`)
    .join('')

async function refusal(render: ProbeRenderer): Promise<TokenInError> {
  const error = await probeChatTemplate(render).catch((caught: unknown) => caught)
  if (!TokenInError.isInstance(error)) throw new Error(`expected a TokenInError, got ${String(error)}`)
  return error
}

describe('probeChatTemplate', () => {
  it.each([true, false])(
    'accepts the real Qwen3 template (thinking %s): <|im_end|> then \\n',
    async (thinking) => {
      const client = new VLLMClient({ baseUrl: server.baseUrl })
      const shape = await probeChatTemplate((messages, addGenerationPrompt) =>
        client.tokenize({
          messages,
          addGenerationPrompt,
          returnTokenStrings: true,
          chatTemplateKwargs: { enable_thinking: thinking },
        }),
      )
      expect(shape).toEqual({ endOfTurnId: 151645, separatorIds: [198], toolResultsStandAlone: true })
    },
  )

  it('accepts a Qwen2.5-style template without think blocks', async () => {
    expect(await probeChatTemplate(fakeRenderer(chatml))).toMatchObject({
      separatorIds: [expect.any(Number)],
      toolResultsStandAlone: true,
    })
  })

  it('notes a template whose tool results name the call they answer (rendered after their call then)', async () => {
    const namingResults = (messages: ChatMessage[]) =>
      chatml(
        messages.map((message, index) => {
          if (message.role !== 'tool') return message
          const caller = messages[index - 1]?.tool_calls?.[0]?.function.name ?? 'unknown'
          return { ...message, content: `${caller}: ${message.content}` }
        }),
      )
    expect(await probeChatTemplate(fakeRenderer(namingResults))).toMatchObject({
      toolResultsStandAlone: false,
    })
  })

  it('refuses a Llama 3 template, naming what a user turn renders as', async () => {
    const llama = (messages: ChatMessage[]) =>
      `<|begin_of_text|>${messages.map((message) => `<|start_header_id|>${message.role}<|end_header_id|>\n\n${message.content}<|eot_id|>`).join('')}`
    const error = await refusal(fakeRenderer(llama))
    expect(error.code).toBe('unsupported-template')
    expect(error.message).toBe(
      'token-in mode supports ChatML chat templates with hermes tool calls (Qwen2.5, Qwen3, QwQ and their fine-tunes); this model\'s template does not fit: a user turn renders as "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\\n\\nprobe<|eot_id|>", not ChatML',
    )
  })

  it('refuses ChatML with XML tool calls (the Qwen3-coder format)', async () => {
    const xml = (messages: ChatMessage[]) =>
      messages
        .map((message) => {
          const calls = (message.tool_calls ?? [])
            .map((call) => `\n<tool_call>\n<function=${call.function.name}>\n</function>\n</tool_call>`)
            .join('')
          return `<|im_start|>${message.role}\n${message.content}${calls}<|im_end|>\n`
        })
        .join('')
    const error = await refusal(fakeRenderer(xml))
    expect(error.message).toMatch(
      /does not fit: an assistant turn with a tool call renders as "<\|im_start\|>assistant\\nprobe\\n<tool_call>\\n<function=probe_tool>/,
    )
  })

  it('refuses a template that re-renders earlier turns, and a server that sends no token strings', async () => {
    const rewriting = (messages: ChatMessage[]) =>
      chatml(
        messages.map((message) =>
          messages.length > 1 ? { ...message, content: `${message.content}!` } : message,
        ),
      )
    expect((await refusal(fakeRenderer(rewriting))).message).toMatch(
      /adding an assistant turn changes how the turns before it render$/,
    )
    expect((await refusal(fakeRenderer(chatml, false))).message).toBe(
      'the server sent no token strings (`token_strs`) for the probe rendered with `/tokenize`, so the template cannot be checked',
    )
  })
})
