import type { ChatMessage, ChatTool, StreamCallOptions } from '@vllm-tito/spec'

/** What to do when ids disagree with `usage`: keep the flagged records, or throw. */
export type MismatchPolicy = 'flag' | 'throw'

/** Per-call options of `chat` and `completions` calls: the spec's abort signal plus the token-id policy. */
export interface TokenCallOptions extends StreamCallOptions {
  /** Overrides the client's `requireTokenIds` for this call. */
  requireTokenIds?: boolean
  /** Overrides the client's `onMismatch` for this call. */
  onMismatch?: MismatchPolicy
}

/** Options of the utility calls (`tokenize`, `detokenize`, `health`, `version`, `models`). */
export interface UtilityCallOptions {
  /** Aborts the HTTP request. */
  signal?: AbortSignal
}

/** Fields shared by both forms of {@link TokenizeInput}. */
interface TokenizeCommonInput {
  /** Model name; optional on a single-model server. */
  model?: string
  /** Add the tokenizer's special tokens (vLLM's default: `false` for messages, `true` for a prompt). */
  addSpecialTokens?: boolean
  /** Also return the raw BPE pieces (`token_strs`, e.g. `ĠEff`). */
  returnTokenStrings?: boolean
}

/** Tokenize a conversation exactly as `/v1/chat/completions` renders it (`count == usage.prompt_tokens`). */
export interface TokenizeMessagesInput extends TokenizeCommonInput {
  messages: ChatMessage[]
  /** Tools the chat template renders into the prompt. */
  tools?: ChatTool[]
  /** Append the assistant generation prompt (vLLM's default: `true`). */
  addGenerationPrompt?: boolean
  /** Continue the final assistant message instead (exclusive with `addGenerationPrompt`). */
  continueFinalMessage?: boolean
  /** Keyword arguments for the chat template, e.g. `{ enable_thinking: false }` for Qwen3. */
  chatTemplateKwargs?: Record<string, unknown>
  /** A chat template overriding the model's. */
  chatTemplate?: string
  prompt?: never
}

/** Tokenize plain text. */
export interface TokenizePromptInput extends TokenizeCommonInput {
  prompt: string
  messages?: never
}

/** Input of `VLLMClient.tokenize`: a conversation or a plain-text prompt. */
export type TokenizeInput = TokenizeMessagesInput | TokenizePromptInput

/** What `POST /tokenize` returned. */
export interface TokenizeResult {
  /** Number of tokens. */
  count: number
  /** The server's context length in tokens (`max_model_len`), or `null` if not sent. */
  maxModelLen: number | null
  /** The token ids. */
  tokenIds: number[]
  /** Raw BPE pieces when `returnTokenStrings` was set, otherwise `null`. */
  tokenStrings: string[] | null
}

/** One entry of `GET /v1/models`. */
export interface VLLMModelInfo {
  /** Model name to send as `model`. */
  id: string
  /** Creation time, seconds since the Unix epoch. */
  created: number | null
  /** `owned_by` (vLLM: `vllm`). */
  ownedBy: string | null
  /** The model the served one derives from (`root`), e.g. the base of a LoRA adapter. */
  root: string | null
  /** `parent`, or `null`. */
  parent: string | null
  /** Context length in tokens (`max_model_len`), or `null` if not sent. */
  maxModelLen: number | null
}
