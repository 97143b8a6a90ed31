/**
 * The token record: everything one model call produced, with the exact token ids vLLM sampled.
 * It is the unit that flows from the client to the recorder, the trajectory builder and the trainers.
 * Plain JSON data, so a record can be written as one JSONL line and read back unchanged.
 */

/** The version of the {@link TokenRecord} layout. Bumped on any breaking change of its fields. */
export const TOKEN_RECORD_SCHEMA_VERSION = 1 as const

/**
 * Why a choice stopped, as vLLM reports it in `finish_reason`.
 * `stop`: an EOS or stop token/string; `length`: `max_tokens` or the context was reached;
 * `tool_calls`: the tool parser saw a call; `abort`/`error`: the engine gave up. Other strings pass through.
 */
export type FinishReason =
  | 'stop'
  | 'length'
  | 'tool_calls'
  | 'content_filter'
  | 'abort'
  | 'error'
  | (string & {})

/** Token counts as reported by vLLM in the response's `usage` object (units: tokens). */
export interface TokenUsage {
  /** Tokens of the rendered prompt (`usage.prompt_tokens`), summed over prompts for batch completions. */
  promptTokens: number
  /** Tokens generated (`usage.completion_tokens`), summed over all choices of the response when `n > 1`. */
  completionTokens: number
  /** `usage.total_tokens`: prompt plus completion tokens. */
  totalTokens: number
}

/** One alternative token at a position, from `top_logprobs`. */
export interface TopLogprob {
  /** The token as vLLM printed it: decoded text, or `token_id:<id>` under `return_tokens_as_token_ids`. */
  token: string
  /** Natural-log probability, clamped by vLLM at -9999.0. */
  logprob: number
  /** Token id when it is known (always under `return_tokens_as_token_ids`), otherwise `null`. */
  tokenId: number | null
}

/**
 * How a record's token ids compare with the server's own `usage` counts.
 * - `verified`: ids present, and both id counts equal `usage` (the ids are exact);
 * - `mismatch`: ids present but their counts differ from `usage` (e.g. vLLM 0.10.2–0.11 dropping ids of
 *   tokens swallowed by a tool or reasoning parser) — the ids are NOT exact;
 * - `unavailable`: the server returned no ids (vLLM < 0.10.2, `return_token_ids` not sent, or a proxy
 *   stripped the fields);
 * - `unverifiable`: ids present but the server sent no `usage` to check them against;
 * - `incomplete`: the call did not finish (stream interrupted); the ids are only what arrived.
 */
export type VerificationStatus = 'verified' | 'mismatch' | 'unavailable' | 'unverifiable' | 'incomplete'

/** The result of checking a record's token ids against `usage` (see {@link VerificationStatus}). */
export interface TokenVerification {
  /** The overall verdict. */
  status: VerificationStatus
  /** `true` only when `status === 'verified'`: the ids are exactly what the server counted. */
  verified: boolean
  /** Prompt ids length (or `null` when no ids arrived). */
  promptIdsCount: number | null
  /** `usage.prompt_tokens` (or `null` without usage). */
  usagePromptTokens: number | null
  /**
   * Completion ids length. For `n > 1` this is summed over every choice of the response, because vLLM
   * reports one summed `usage.completion_tokens`.
   */
  completionIdsCount: number | null
  /** `usage.completion_tokens` (or `null` without usage). */
  usageCompletionTokens: number | null
  /** Human-readable reasons when not verified, each naming the fix where there is one. Empty when verified. */
  issues: string[]
}

/** A tool call as the server's tool parser returned it, arguments kept as the raw string. */
export interface ToolCallRecord {
  /** Position of the call within the choice (`tool_calls[].index`). */
  index: number
  /**
   * Call id from the server (`chatcmpl-tool-…`), or `null` if none was sent. In token-in records the client
   * parsed the call and names it `<responseId>-tool-<index>`.
   */
  id: string | null
  /** Function name. */
  name: string
  /**
   * Arguments exactly as streamed (concatenated fragments), never re-serialised. `'{}'` when the server
   * sent none (hermes' parameterless-tool quirk). May be invalid JSON: the model's own mistake, kept for RL.
   */
  arguments: string
}

/** Wall-clock timing of the call, milliseconds since the Unix epoch (`Date.now()` on the client). */
export interface RequestTiming {
  /** When the client sent the request. */
  startedAt: number
  /** When the first response byte (stream) or the body (non-stream) arrived; `null` if nothing arrived. */
  firstByteAt: number | null
  /** When the record was finished (stream end, error or body parsed). */
  endedAt: number
}

/**
 * Everything one model call produced for one choice, with the exact token ids vLLM sampled.
 * Chat calls give one record per choice (`n > 1` gives several with `choiceIndex` 0…n-1); completion
 * calls give one record per prompt × choice.
 */
export interface TokenRecord {
  /** Layout version of this record: always `1` for this type. */
  schemaVersion: typeof TOKEN_RECORD_SCHEMA_VERSION
  /** Which endpoint produced it: `chat` (`/v1/chat/completions`) or `completion` (`/v1/completions`). */
  kind: 'chat' | 'completion'
  /** Response id from the server (`chatcmpl-…` / `cmpl-…`), or `null` if no chunk arrived. */
  responseId: string | null
  /** Model name the server reported (`model`), or the requested one if none arrived. */
  model: string | null
  /** Choice index within the response (`choices[].index`), 0 unless `n > 1` or a batch prompt. */
  choiceIndex: number
  /**
   * Token ids of the prompt after chat-template rendering, as returned by vLLM with `return_token_ids`
   * (chat: top-level `prompt_token_ids` on the first chunk; completions: per choice). `null` when the server
   * returned none.
   */
  promptTokenIds: number[] | null
  /**
   * Token ids of the completion as returned by vLLM with `return_token_ids`, concatenated over every chunk
   * (including `delta: {}` frames and the finish chunk), including the final EOS token (e.g. Qwen's
   * `<|im_end|>` = 151645). `null` when the server returned none.
   */
  tokenIds: number[] | null
  /**
   * Sampled-token log-probabilities (natural log), aligned 1:1 with {@link tokenIds} when `logprobs` was
   * requested; an entry is `null` where the server sent ids without a logprob. Never padded: `null` as a
   * whole when logprobs were not requested or could not be aligned.
   */
  logprobs: Array<number | null> | null
  /** `top_logprobs` per position, aligned with {@link tokenIds}; `null` when not requested. */
  topLogprobs: TopLogprob[][] | null
  /** `finish_reason` of the choice, or `null` if the call ended before one arrived. */
  finishReason: FinishReason | null
  /**
   * `stop_reason`: `null` for EOS, the integer token id for `stop_token_ids` or model stop tokens, the
   * string for a matched stop string.
   */
  stopReason: number | string | null
  /** Token counts reported by the server, or `null` if it sent none (e.g. `include_usage` off). */
  usage: TokenUsage | null
  /** Whether the ids are exact, checked against {@link usage}. Never claims more than it can show. */
  verification: TokenVerification
  /** Assistant text (`content` / completion `text`) as the server streamed it. */
  text: string
  /** Reasoning text (`reasoning` or `reasoning_content`), or `null` if the server sent none. */
  reasoning: string | null
  /** Tool calls parsed by the server, in `index` order. Empty when none. */
  toolCalls: ToolCallRecord[]
  /** Client-side timing of the call. */
  timing: RequestTiming
  /** `false` when the call was interrupted and this record holds only what arrived before the failure. */
  complete: boolean
  /**
   * How the prompt was built, for calls made in token-in mode (`VLLMModel` with `tokenIn`); absent for calls
   * whose prompt the server rendered itself (`/v1/chat/completions`). Optional, so records of schema version 1
   * without it stay valid. In token-in records `text`, `reasoning` and `toolCalls` are the client's parse of
   * the completion (vLLM runs no parser on `/v1/completions`).
   */
  tokenIn?: TokenInPrompt
}

/**
 * Why token-in mode rendered a call's whole prompt with the chat template instead of appending to the kept
 * sequence:
 * - `first-call`: nothing was kept yet (the first call of the model instance);
 * - `history-changed`: the conversation no longer starts with the messages the kept ids stand for (a
 *   conversation manager trimmed it, a message was edited or removed, another conversation was passed);
 * - `reply-changed`: the assistant message after them is not the reply the model produced (edited by a hook,
 *   or the reply was never added to the history, as after a `MaxTokensError`);
 * - `settings-changed`: the system prompt, the tools or the chat-template arguments differ from the kept
 *   prompt's;
 * - `not-append-only`: the chat template rendered the new messages in a way that does not extend a rendered
 *   prefix, so no exact delta exists for them;
 * - `ids-missing`: the previous call's response carried no token ids (or other prompt ids than were sent),
 *   so there was no sequence to append to.
 */
export type TokenInRenderReason =
  | 'first-call'
  | 'history-changed'
  | 'reply-changed'
  | 'settings-changed'
  | 'not-append-only'
  | 'ids-missing'

/**
 * One appended piece of a token-in prompt, as a range of `promptTokenIds` (offsets in tokens, end exclusive).
 * - `closing`: the end-of-turn token the client added after a reply that did not end with one (cut by
 *   `max_tokens` or a stop string); not sampled by the model;
 * - `separator`: what the chat template writes between an end-of-turn token and the next turn (Qwen's `\n`
 *   after `<|im_end|>`), which the model does not generate;
 * - `messages`: the template's rendering of new messages (tool results, a user turn), exactly as it renders
 *   them after a fixed prefix;
 * - `generation-prompt`: the opening of the next assistant turn (`<|im_start|>assistant\n`, plus the empty
 *   think block of `enable_thinking: false`).
 * None of them is model output: all carry loss mask 0.
 */
export interface TokenInSegment {
  /** What the range holds. */
  kind: 'closing' | 'separator' | 'messages' | 'generation-prompt'
  /** First offset in `promptTokenIds`. */
  start: number
  /** Offset after the last token (exclusive). */
  end: number
  /** For `messages`: the chat roles rendered (`tool`, `user`, `system`), in order; empty otherwise. */
  roles: string[]
}

/** How token-in mode built a call's prompt ({@link TokenRecord.tokenIn}). */
export interface TokenInPrompt {
  /**
   * `appended`: the previous call's prompt and response ids, unchanged, followed by the appended segments;
   * `rendered`: the whole conversation rendered by the server's chat template (`/tokenize`).
   */
  mode: 'appended' | 'rendered'
  /** Why the prompt was rendered (`mode: 'rendered'`), `null` when appended. */
  renderReason: TokenInRenderReason | null
  /** What differed, in words, for a re-render; `null` when appended or for the first call. */
  detail: string | null
  /**
   * Tokens at the start of `promptTokenIds` taken unchanged from the previous call (its prompt plus response
   * ids); 0 when rendered.
   */
  keptLength: number
  /** The appended pieces in order, covering `keptLength` to the end of the prompt; empty when rendered. */
  segments: TokenInSegment[]
}

/** A {@link TokenRecord} tagged with the rollout it belongs to, for sinks shared by several rollouts. */
export interface TaggedTokenRecord {
  /** Rollout id given by the user (e.g. Agent Lightning's `rollout_id`). */
  rolloutId: string
  /** Position of the call within its rollout, 0-based. */
  callIndex: number
  /** The record itself. */
  record: TokenRecord
}
