import type { Qwen3Tokenizer } from './qwen3-tokenizer'
import type { RenderedConversation } from './rendered-conversation'

/**
 * Which vLLM generation to imitate, on the wire and on the input side (what happens to incoming chat messages
 * before the template runs; `docs/vllm-input-side.md` has the facts by version).
 * - `current` (≈v0.28): parser-swallowed tokens still arrive as `delta: {}` frames carrying their ids,
 *   `reasoning`, 16-hex ids, `system_fingerprint` on the finish/usage chunk, `prompt_text: null`. Incoming
 *   `reasoning_content` is renamed to `reasoning` on `/v1/chat/completions` (vllm-project/vllm#42664) and a
 *   tool call's `arguments` that is not JSON renders as `{}` (vllm-project/vllm#48922).
 * - `strict-0.20` (the releases between vllm-project/vllm#33402 and vllm-project/vllm#42664, Feb–May 2026,
 *   0.19 and 0.20 among them; reports 0.20.2): the wire of `current`, but only `reasoning` is read from
 *   incoming messages: `reasoning_content` is ignored (vllm-project/vllm#33402), and `arguments` that are not
 *   JSON get a 400.
 * - `legacy-0.10` (v0.10.2–v0.11): ids of parser-swallowed tokens are dropped (the real bug),
 *   `reasoning_content`, 32-hex ids, completions chunks carry every key; no reasoning of incoming messages
 *   reaches the template at all (interleaved thinking came with vllm-project/vllm#28531).
 * - `pre-0.10.2` (v0.10.0–v0.10.1): no `return_token_ids`; id keys are absent, as that field did not exist.
 */
export type MockVllmMode = 'current' | 'strict-0.20' | 'legacy-0.10' | 'pre-0.10.2'

/**
 * An optional tool-call streaming quirk of some vLLM versions. They change only streamed chat
 * tool-call deltas; every token id still arrives (in `delta: {}` frames where a step releases nothing, in
 * `current` mode).
 * - `arguments-in-finish-chunk` (v0.10–0.11 `_should_check_for_unstreamed_tool_arg_tokens`): the last call's
 *   arguments stream until the step that closes them; that rest arrives in the finish chunk with
 *   `finish_reason: "tool_calls"`, computed as `json.dumps(arguments)` minus the streamed text.
 * - `one-piece-arguments` (qwen3_xml, GLM-4.5, Qwen3-coder parsers): the arguments are held until their value
 *   closes, then sent in one frame.
 * - `drop-empty-arguments` (hermes, vllm-project/vllm#28806): a call whose arguments are `{}` streams its name
 *   delta and no arguments at all.
 * - `required-name-null` (v0.10–0.11, only for `tool_choice: "required"`): the first delta carries the name and
 *   the start of the arguments; later deltas carry `"name": null` explicitly.
 */
export type ToolStreamQuirk =
  | 'arguments-in-finish-chunk'
  | 'one-piece-arguments'
  | 'drop-empty-arguments'
  | 'required-name-null'

/** Context-overflow error texts of the vLLM generations (newest first). */
export type ContextOverflowWording = 'newest' | 'v0.16' | 'v0.10' | 'legacy'

/** One chat/completion request as a script function sees it. */
export interface MockReplyRequest {
  /** The parsed request body. */
  body: Record<string, unknown>
  /** 0-based index of this generation request (chat and completions share one counter). */
  requestIndex: number
  /** Which endpoint received it. */
  endpoint: 'chat' | 'completions'
  /**
   * For a `/v1/completions` request whose (first) prompt is a conversation rendered by Qwen3's chat template
   * ending with the generation prompt (a client generating from token ids): that conversation read back, so a
   * script can answer it as it would answer the same chat request. Absent otherwise.
   */
  conversation?: RenderedConversation
}

/**
 * Returns the model's raw output text for a request. It may contain `<think>…</think>` and hermes
 * `<tool_call>{"name": …, "arguments": {…}}</tool_call>` blocks; the mock tokenizes it with the real tokenizer
 * and appends `<|im_end|>`.
 */
export type MockReplyFunction = (request: MockReplyRequest) => string

/**
 * The "model".
 * - `'demo'`: deterministic; with a `calculator` tool and an arithmetic question it thinks, calls the tool,
 *   then answers from the tool result; otherwise a short polite reply.
 * - `{ random: { tokens } }`: `tokens` random vocabulary tokens (then `<|im_end|>`), prepared cheaply for load.
 * - `{ script }`: a queue of replies consumed one per chat/completion request (the last entry repeats when
 *   exhausted; entries may be functions), or one function for every request.
 */
export type MockPolicy =
  | 'demo'
  | { random: { tokens: number } }
  | { script: Array<string | MockReplyFunction> | MockReplyFunction }

/** When a configured fault applies. Without `when`, it applies to every chat/completion request. */
export interface MockFaultCondition {
  /** Only these 0-based generation-request indices. */
  requestIndex?: number[]
  /** Apply with this probability (0..1), drawn from the seeded generator. */
  probability?: number
}

/** One injected failure (wire-level behaviour of a broken server or network). */
export type MockFault = (
  | { kind: 'http-status'; status: 429 | 503 | 500; retryAfterSeconds?: number }
  | { kind: 'reset'; afterChunks: number }
  | { kind: 'stall'; afterChunks: number; ms: number }
  | { kind: 'malformed-chunk'; afterChunks: number }
  | { kind: 'mid-stream-error'; afterChunks: number; message?: string; code?: number }
  | { kind: 'wrong-token-ids-type'; afterChunks: number }
  | { kind: 'missing-done' }
) & { when?: MockFaultCondition }

/** Stream pacing. All default to 0 delays and one token per chunk. */
export interface MockPacing {
  /** Tokens per streamed chunk (vLLM's `stream_interval`), default 1. */
  tokensPerChunk?: number
  /** Delay before the first chunk (time to first token), ms. */
  firstTokenDelayMs?: number
  /** Delay between chunks, ms. */
  interChunkDelayMs?: number
}

/** Options of {@link startMockVllm}. */
export interface MockVllmOptions {
  /** Interface to listen on, default `127.0.0.1`. */
  host?: string
  /** Port, default 0 (a free port). */
  port?: number
  /** The served model name, default `Qwen/Qwen3-8B`; other names get 404. */
  model?: string
  /** `max_model_len`, default 40960. */
  maxModelLen?: number
  /** vLLM generation to imitate, default `current`. */
  mode?: MockVllmMode
  /** The "model", default `demo`. */
  policy?: MockPolicy
  /** Share (0..1) of words tokenized non-canonically (e.g. `H`+`AVING`), default 0. */
  nonCanonicalRate?: number
  /** Seed of every random choice (ids, faults, splits, logprobs), default 1. */
  seed?: number
  /** Stream pacing. */
  pacing?: MockPacing
  /** Faults applied to chat/completion requests. */
  faults?: MockFault[]
  /** Context-overflow wording, default `newest`. */
  contextOverflowWording?: ContextOverflowWording
  /**
   * Whether the imitated server runs with `--enable-auto-tool-choice --tool-call-parser hermes`
   * (default true). When false, `tool_choice: "auto"` is rejected with vLLM's 400.
   */
  enableAutoToolChoice?: boolean
  /** Whether the imitated server runs with `--reasoning-parser qwen3` (default true). */
  reasoningParser?: boolean
  /**
   * Tool-call streaming quirks to imitate, default none (vLLM's plain hermes delta sequence). v0.10.2's
   * `finish_reason: "tool_calls"` on `length` needs no quirk: it is part of the `legacy-0.10` mode.
   */
  toolStreamQuirks?: ToolStreamQuirk[]
  /**
   * Whether the imitated server runs with `--enable-scale-out` (default false): only then does it serve the
   * render endpoints `POST /v1/chat/completions/render` and `POST /v1/completions/render` (404 otherwise).
   * vLLM from vllm-project/vllm#54579 registers them only on that opt-in (first the environment variable
   * `VLLM_ENABLE_SCALE_OUT_ENDPOINTS=1`, the flag since vllm-project/vllm#55176, v0.30); earlier releases that
   * have them (about 0.18 to 0.29) served them to every generation model.
   */
  enableScaleOut?: boolean
}

/** One request the server received. */
export interface MockRequestLog {
  /** HTTP method. */
  method: string
  /** Path without the query string. */
  path: string
  /** Parsed JSON body, or `null` for an empty or unparsable body. */
  body: unknown
  /** Request headers (lower-case names). */
  headers: Record<string, string | string[] | undefined>
}

/** A running mock server. */
export interface MockVllmServer {
  /** `http://127.0.0.1:<port>` (no trailing slash, no `/v1`). */
  baseUrl: string
  /** Every request received, in order. */
  requests: MockRequestLog[]
  /** The loaded tokenizer (shared cache). */
  tokenizer: Qwen3Tokenizer
  /** Closes the server and destroys open connections; idempotent. */
  close(): Promise<void>
}
