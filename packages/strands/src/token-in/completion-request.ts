import type { ChatRequest, CompletionRequest } from '@vllm-tito/spec'

/**
 * Fields of a chat request that `/v1/completions` does not take: the conversation and its rendering, which
 * token-in mode does itself, and the chat forms of fields it translates (`logprobs`, `max_completion_tokens`).
 */
const CHAT_ONLY_FIELDS = [
  'messages',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'chat_template',
  'chat_template_kwargs',
  'add_generation_prompt',
  'continue_final_message',
  'documents',
  'echo',
  'logprobs',
  'top_logprobs',
  'max_completion_tokens',
]

/** What the completion request is built from. */
export interface CompletionInput {
  /** The call as `/v1/chat/completions` would get it (config, `params` and typed options merged). */
  chat: ChatRequest
  /** The prompt ids to generate from. */
  promptIds: number[]
  /** The end-of-turn token, which generation stops on. */
  endOfTurnId: number
  /** `max_model_len`, for the `max_tokens` chat would default to; `null` when unknown. */
  maxModelLen: number | null
}

/**
 * The `/v1/completions` body of a token-in call: the chat request's sampling fields, and
 * - `prompt`: the ids;
 * - `max_tokens`: the chat request's (`max_tokens` or `max_completion_tokens`), otherwise the rest of the
 *   context, which is what chat defaults to; always sent, because completions default to 16;
 * - `return_token_ids: true`, without which there is nothing to keep;
 * - `stop_token_ids` with the end-of-turn token added, so a turn ends on it whatever the generation config;
 * - `skip_special_tokens: false`, as vLLM's hermes parser sets it for chat with tools, so every marker is in
 *   the text;
 * - `logprobs`: the number of alternatives (`top_logprobs`, or 0) when the chat form asks for logprobs.
 *
 * Returns `undefined` when neither `max_tokens` nor `max_model_len` is known.
 */
export function completionRequest(input: CompletionInput): CompletionRequest | undefined {
  const { chat, promptIds, endOfTurnId, maxModelLen } = input
  const body: Record<string, unknown> = { ...chat }
  for (const field of CHAT_ONLY_FIELDS) delete body[field]
  const requested = positiveInteger(chat.max_tokens) ?? positiveInteger(chat.max_completion_tokens)
  const maxTokens =
    requested ?? (maxModelLen === null ? undefined : Math.max(1, maxModelLen - promptIds.length))
  if (maxTokens === undefined) return undefined
  const stopTokenIds = Array.isArray(chat.stop_token_ids) ? chat.stop_token_ids : []
  const request: CompletionRequest = {
    ...body,
    model: chat.model,
    prompt: promptIds,
    max_tokens: maxTokens,
    return_token_ids: true,
    skip_special_tokens: false,
    stop_token_ids: stopTokenIds.includes(endOfTurnId) ? stopTokenIds : [...stopTokenIds, endOfTurnId],
  }
  if (chat.logprobs === true) request.logprobs = positiveInteger(chat.top_logprobs) ?? 0
  else if (typeof chat.logprobs === 'number') request.logprobs = chat.logprobs
  return request
}

function positiveInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined
}
