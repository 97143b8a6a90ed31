import type { ChatRequest } from './chat-request'
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
}
