import { type ChatMessage, type ChatTool, isPlainObject } from '@vllm-tito/spec'
import type { MockContext } from './mock-context'
import { RequestFields, type TemplateFlags } from './request-fields'
import { badRequest, VllmHttpError } from './vllm-errors'

/**
 * Renders the messages with the chat template exactly as the chat path and `/tokenize` do: through the
 * input side of the server's mode first. `/tokenize` never renames `reasoning_content` (vllm-project/vllm#52513
 * is open), and no generation reads it there, so it is removed before rendering.
 */
export function renderPromptIds(
  context: MockContext,
  body: Record<string, unknown>,
  settings: TemplateFlags & { tools: ChatTool[] | undefined; endpoint: 'chat-completions' | 'tokenize' },
): number[] {
  const sent = body.messages as unknown[]
  const messages =
    settings.endpoint === 'tokenize' ? sent.map(withoutReasoningContent) : (sent as ChatMessage[])
  const kwargs = new RequestFields(body).optionalObject('chat_template_kwargs') ?? {}
  let rendered: string
  try {
    rendered = context.tokenizer.renderChat(messages, {
      tools: settings.tools,
      addGenerationPrompt: settings.addGenerationPrompt,
      chatTemplateKwargs: kwargs,
      mode: context.mode,
    })
  } catch (error) {
    if (error instanceof VllmHttpError) throw error
    throw badRequest(`Chat template could not be rendered: ${(error as Error).message}`)
  }
  if (settings.continueFinal) {
    // continue the last message: drop the end-of-turn the template closed it with
    rendered = rendered.replace(/<\|im_end\|>\n$/, '')
  }
  return context.tokenizer.encode(rendered)
}

function withoutReasoningContent(message: unknown): ChatMessage {
  if (!isPlainObject(message)) return message as ChatMessage
  const { reasoning_content: _ignored, ...rest } = message
  return rest as ChatMessage
}
