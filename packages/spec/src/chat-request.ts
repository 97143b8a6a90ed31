/**
 * Request bodies in vLLM's OpenAI-compatible wire names (snake_case, as sent on the wire), with the vLLM
 * extras typed. Unknown keys pass through to the server unchanged.
 */

/** A JSON value, as sent to or received from the server. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

/** One content part of a multi-part message (`{type: 'text', text}`); other part types pass through. */
export interface ChatContentPart {
  /** Part type; `text` is the one vLLM renders for text-only models. */
  type: 'text' | (string & {})
  /** The text of a `text` part. */
  text?: string
  [key: string]: unknown
}

/** A tool call inside an assistant message, in OpenAI wire format. */
export interface ChatToolCall {
  /** Call id, echoed back by the tool message's `tool_call_id`. */
  id: string
  /** Always `function`. */
  type: 'function'
  /** Function name and raw JSON arguments string. */
  function: { name: string; arguments: string }
}

/** A chat message in OpenAI wire format, as rendered by vLLM's chat template. */
export interface ChatMessage {
  /** Speaker role. */
  role: 'system' | 'user' | 'assistant' | 'tool' | 'developer'
  /** Text content, content parts, or `null` (an assistant message that only calls tools). */
  content: string | ChatContentPart[] | null
  /** Tool calls of an assistant message. */
  tool_calls?: ChatToolCall[]
  /** For `role: 'tool'`: the id of the call this result answers. */
  tool_call_id?: string
  /** Optional speaker name. */
  name?: string
  /**
   * Reasoning of an earlier assistant turn, under the name vLLM reads: every vLLM that reads reasoning from
   * incoming messages (since vllm-project/vllm#28531, Nov 2025) reads `reasoning`, and hands it to the chat
   * template as both `reasoning` and `reasoning_content` (the name Qwen3's template uses). v0.10.2–v0.11.0
   * read no reasoning field at all.
   */
  reasoning?: string
  /**
   * The old name of {@link reasoning}, for servers and proxies that still read it. vLLM between
   * vllm-project/vllm#33402 (Jan 2026) and vllm-project/vllm#42664 (May 2026) ignores it, and `/tokenize`
   * still does, so send `reasoning` too; where both are present, vLLM reads `reasoning`.
   */
  reasoning_content?: string
  [key: string]: unknown
}

/** A tool offered to the model, in OpenAI wire format. */
export interface ChatTool {
  /** Always `function`. */
  type: 'function'
  /** Name, description and JSON Schema of the arguments. */
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean }
}

/** `tool_choice` in OpenAI wire format. */
export type ChatToolChoice = 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } }

/** Sampling and vLLM extras shared by chat and completion requests. */
export interface SamplingParams {
  /** Model name as the server knows it (`/v1/models`). */
  model: string
  /** Maximum completion tokens. */
  max_tokens?: number | null
  temperature?: number | null
  top_p?: number | null
  /** vLLM extra: top-k sampling (`-1` disables). */
  top_k?: number | null
  /** vLLM extra: min-p sampling. */
  min_p?: number | null
  /** vLLM extra: repetition penalty (1.0 disables). */
  repetition_penalty?: number | null
  presence_penalty?: number | null
  frequency_penalty?: number | null
  seed?: number | null
  /** Number of choices per prompt. */
  n?: number | null
  /** Stop strings; a match gives `stop_reason` = the string. */
  stop?: string | string[] | null
  /** vLLM extra: stop token ids; a match gives `stop_reason` = the id. */
  stop_token_ids?: number[] | null
  /** vLLM ≥ 0.10.2: return `prompt_token_ids` and `token_ids`. The client sends `true` unless told otherwise. */
  return_token_ids?: boolean | null
  /** vLLM extra: logprob tokens as `token_id:<id>` strings. */
  return_tokens_as_token_ids?: boolean | null
  /** vLLM extra: skip special tokens when detokenizing (default true). */
  skip_special_tokens?: boolean | null
  /** vLLM extra: non-streaming only; logprobs of the prompt tokens. */
  prompt_logprobs?: number | null
  /** Stream options; `include_usage` is sent `true` by the client unless told otherwise. */
  stream_options?: { include_usage?: boolean | null; continuous_usage_stats?: boolean | null } | null
  /** Any other field is sent as it is. */
  [key: string]: unknown
}

/** A `/v1/chat/completions` request body. */
export interface ChatRequest extends SamplingParams {
  /** The conversation. */
  messages: ChatMessage[]
  /** Tools offered to the model. */
  tools?: ChatTool[] | null
  tool_choice?: ChatToolChoice | null
  /** Chat logprobs on/off. */
  logprobs?: boolean | null
  /** Alternatives per position (needs `logprobs: true`). */
  top_logprobs?: number | null
  /** vLLM extra: keyword arguments for the chat template, e.g. `{ enable_thinking: false }` for Qwen3. */
  chat_template_kwargs?: Record<string, unknown> | null
  /** vLLM extra: add the generation prompt (default true). */
  add_generation_prompt?: boolean | null
  /** vLLM extra: continue the final assistant message instead of starting a new one. */
  continue_final_message?: boolean | null
}

/** A `/v1/completions` request body; `prompt` may be token ids (token in). */
export interface CompletionRequest extends SamplingParams {
  /** Text, token ids, or a batch of either. Ids go to the engine unchanged (no BOS added). */
  prompt: string | string[] | number[] | number[][]
  /** Completions logprobs: the number of alternatives (0 = sampled token only). */
  logprobs?: number | null
  /** Echo the prompt before the completion. */
  echo?: boolean | null
}
