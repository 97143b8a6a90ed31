import type { Message, StreamOptions, ToolChoice, ToolSpec } from '@strands-agents/sdk'
import { type ChatRequest, type ChatTool, type ChatToolChoice, isPlainObject } from '@vllm-tito/spec'
import { formatChatMessages } from './format-chat-messages'
import type { VLLMModelConfig } from './vllm-model-config'

/**
 * Builds the `/v1/chat/completions` body for one model call.
 *
 * Precedence, lowest first: `params` (with a Python-style `params.extra_body` merged into the top level, not
 * sent literally), then the typed config (`maxTokens` → `max_tokens`, `temperature`, `topP` → `top_p`), then
 * the fields VLLMModel owns (`model`, `messages`, `tools`, `tool_choice`, `return_token_ids`).
 *
 * `return_token_ids` is always sent explicitly: `true` when `returnTokenIds` is set or `params` asks for it,
 * otherwise `false` — the Python default, which also keeps the client from turning it on by itself.
 * With `disableTools` no `tools`/`tool_choice` is sent, even when `params` holds them.
 */
export function formatChatRequest(
  config: VLLMModelConfig & { modelId: string },
  messages: readonly Message[],
  options: StreamOptions | undefined,
): ChatRequest {
  const { extra_body: extraBody, ...topLevel } = config.params ?? {}
  const merged: Record<string, unknown> = { ...topLevel, ...(isPlainObject(extraBody) ? extraBody : {}) }
  const request: ChatRequest = {
    ...merged,
    model: config.modelId,
    messages: formatChatMessages(messages, options?.systemPrompt),
    return_token_ids: config.returnTokenIds === true || merged.return_token_ids === true,
  }
  if (config.maxTokens !== undefined) request.max_tokens = config.maxTokens
  if (config.temperature !== undefined) request.temperature = config.temperature
  if (config.topP !== undefined) request.top_p = config.topP
  if (config.disableTools === true) {
    delete request.tools
    delete request.tool_choice
    return request
  }
  if (options?.toolSpecs !== undefined && options.toolSpecs.length > 0) {
    request.tools = options.toolSpecs.map(formatTool)
    if (options.toolChoice !== undefined) request.tool_choice = formatToolChoice(options.toolChoice)
  }
  return request
}

function formatTool(spec: ToolSpec): ChatTool {
  return {
    type: 'function',
    function: {
      name: spec.name,
      description: spec.description,
      parameters: (spec.inputSchema as Record<string, unknown> | undefined) ?? {
        type: 'object',
        properties: {},
      },
    },
  }
}

function formatToolChoice(choice: ToolChoice): ChatToolChoice {
  if ('any' in choice) return 'required'
  if ('tool' in choice) return { type: 'function', function: { name: choice.tool.name } }
  return 'auto'
}
