import type { BaseModelConfig } from '@strands-agents/sdk'
import type { TokenStreamingClient } from '@vllm-tito/spec'

/**
 * The configuration of a {@link VLLMModel}, as `getConfig()` returns it and `updateConfig()` merges it.
 * Mirrors `strands_vllm.VLLMModel(base_url, model_id, return_token_ids, disable_tools, params)`.
 * The API key is deliberately not part of it, so the config can be logged safely.
 */
export interface VLLMModelConfig extends BaseModelConfig {
  /**
   * The vLLM server's OpenAI-compatible base URL, e.g. `http://localhost:8000/v1`. Used to build the default
   * `VLLMClient`; ignored when a `client` is passed.
   */
  baseUrl?: string
  /** The model name as the server knows it (`/v1/models`), e.g. `Qwen/Qwen3-8B`. Required. */
  modelId?: string
  /**
   * Ask vLLM (≥ 0.10.2) for `prompt_token_ids` and `token_ids` (`return_token_ids: true`). Default `false`, as
   * in Python: records then carry no ids (verification status `unavailable`). **Set it to `true` for RL.**
   */
  returnTokenIds?: boolean
  /** Send no `tools` or `tool_choice` (for servers started without a tool-call parser). Default `false`. */
  disableTools?: boolean
  /**
   * Stream each call (`true`, the default) or send it with `stream: false` and map the whole response to the
   * same Strands events and the same record. Set `false` for servers that refuse streaming, such as Agent
   * Lightning's gateway (HTTP 400 "Streaming responses are not supported"). Needs a client with
   * `chat.createEvents` (a `VLLMClient` has it).
   */
  stream?: boolean
  /**
   * Extra generation parameters merged into the request body (`top_k`, `chat_template_kwargs`, `logprobs`,
   * …). A Python-style `extra_body` object is merged into the top level, not sent as a field.
   */
  params?: Record<string, unknown>
  /**
   * Token-in mode (`true`, or an object with its options): keep each conversation as one exact token
   * sequence. The first call renders the prompt with the server's chat template (`POST /tokenize`); every
   * later call appends only the template's tokens for the new messages (tool results, user turns) to the
   * previous prompt and the ids the model sampled, and generates from the ids with `/v1/completions`, so one
   * rollout gives one training sequence even for reasoning models. The model instance keeps that state: use
   * one `VLLMModel` per conversation (per agent, per rollout). Default `false`: every call goes to
   * `/v1/chat/completions`, which re-renders the history. Supports ChatML templates with hermes tool calls
   * (Qwen2.5, Qwen3, QwQ); any other template is refused at the first call.
   */
  tokenIn?: boolean | TokenInOptions
}

/** Options of token-in mode (`tokenIn`). */
export interface TokenInOptions {
  /**
   * The vLLM server to render prompts with (`POST /tokenize`), as its root or OpenAI base URL, when
   * `baseUrl` points at a proxy that has no `/tokenize`, such as Agent Lightning's gateway. Default: the
   * model's own client.
   */
  tokenizeBaseUrl?: string
  /**
   * The model name to send to the `tokenizeBaseUrl` server, when it is not `modelId` (a proxy such as Agent
   * Lightning's gateway replaces the model name, so `modelId` may be a placeholder). Default: none is sent,
   * and vLLM renders with the one model it serves.
   */
  tokenizeModelId?: string
}

/** What `new VLLMModel(...)` takes: the config plus how to reach the server. */
export interface VLLMModelOptions extends VLLMModelConfig {
  /** Bearer token for the server. Default `'EMPTY'` (vLLM without `--api-key`). Never logged. */
  apiKey?: string
  /**
   * Bearer token for the `tokenIn.tokenizeBaseUrl` server. Default `'EMPTY'`: `apiKey` (which may be a
   * proxy's, e.g. Agent Lightning's `AGL_KEY`) is never sent to another server. Never logged.
   */
  tokenizeApiKey?: string
  /**
   * Any {@link TokenStreamingClient} (a configured `VLLMClient`, a proxy, a test double). Default: a
   * `VLLMClient` built from `baseUrl` and `apiKey`.
   */
  client?: TokenStreamingClient
}
