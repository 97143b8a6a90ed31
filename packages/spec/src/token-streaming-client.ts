import type { ChatMessage, ChatRequest, ChatTool, CompletionRequest } from './chat-request'
import type { TokenStreamEvent } from './stream-events'
import type { TokenRecord } from './token-record'

/** Per-call options of a streaming request. */
export interface StreamCallOptions {
  /** Aborts the HTTP request; the stream then rejects with an abort error. */
  signal?: AbortSignal
}

/**
 * A streaming call in progress: iterate it for events, or await {@link TokenStream.final} for the records.
 * Breaking out of the iteration aborts the HTTP request.
 */
export interface TokenStream extends AsyncIterable<TokenStreamEvent> {
  /** Resolves with one record per choice once the stream ends (consuming it if nobody iterates). */
  final(): Promise<TokenRecord[]>
  /** Aborts the HTTP request. */
  abort(): void
}

/**
 * What a model provider needs from a token-id client: `VLLMModel` consumes this interface, and
 * `VLLMClient` from `@vllm-tito/client` implements it. Tests and proxies may supply their own.
 */
export interface TokenStreamingClient {
  /** Chat completions. */
  chat: {
    /** Starts a streaming `/v1/chat/completions` call. */
    stream(request: ChatRequest, options?: StreamCallOptions): TokenStream
    /**
     * Starts a non-streaming `/v1/chat/completions` call (`stream: false`) whose one response body is handed
     * out as the events a stream of the same reply gives: the same kinds in the same order, with one delta of
     * each kind per choice instead of many, ending with `response-end`; `final()` gives the same records a
     * stream would. For servers that refuse streaming, such as Agent Lightning's gateway. Optional: a client
     * without it can only stream, and `VLLMModel` then refuses `stream: false`.
     */
    createEvents?(request: ChatRequest, options?: StreamCallOptions): TokenStream
  }
  /**
   * `/v1/completions`, which token-in mode generates with (`prompt: number[]`): the same two calls as `chat`,
   * yielding completion records. Optional: a client without it cannot run token-in mode.
   */
  completions?: {
    /** Starts a streaming `/v1/completions` call. */
    stream(request: CompletionRequest, options?: StreamCallOptions): TokenStream
    /** A non-streaming `/v1/completions` call read as the events a stream gives (see `chat.createEvents`). */
    createEvents?(request: CompletionRequest, options?: StreamCallOptions): TokenStream
  }
  /**
   * vLLM's `POST /tokenize` in chat form: the conversation rendered exactly as `/v1/chat/completions` renders
   * it, as token ids. Token-in mode renders first prompts and new messages with it. Optional.
   */
  tokenize?(input: ChatTemplateInput, options?: StreamCallOptions): Promise<RenderedChatTemplate>
}

/** A conversation to render with the server's chat template (the chat form of vLLM's `POST /tokenize`). */
export interface ChatTemplateInput {
  /** Model name; optional on a single-model server. */
  model?: string
  /** The conversation, in OpenAI wire format. */
  messages: ChatMessage[]
  /** Tools the template renders into the prompt. */
  tools?: ChatTool[]
  /** Append the assistant generation prompt (vLLM's default: `true`). */
  addGenerationPrompt?: boolean
  /** Leave the final assistant message open instead (exclusive with `addGenerationPrompt`). */
  continueFinalMessage?: boolean
  /** Keyword arguments for the chat template, e.g. `{ enable_thinking: false }` for Qwen3. */
  chatTemplateKwargs?: Record<string, unknown>
  /** Also return the raw vocabulary piece of every id (`token_strs`). */
  returnTokenStrings?: boolean
}

/** What rendering a conversation gave. */
export interface RenderedChatTemplate {
  /** The prompt token ids. */
  tokenIds: number[]
  /** Raw vocabulary pieces (`<|im_end|>`, `Ċ`) when asked for, otherwise `null`. */
  tokenStrings: string[] | null
  /** The server's context length in tokens (`max_model_len`), or `null` if not sent. */
  maxModelLen: number | null
}
