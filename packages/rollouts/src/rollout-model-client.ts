import type { TokenCallOptions, TokenizeInput, TokenizeResult, VLLMClient } from '@vllm-tito/client'
import {
  type ChatRequest,
  StreamInterruptedError,
  type TokenRecord,
  type TokenStream,
  type TokenStreamEvent,
  type TokenStreamingClient,
} from '@vllm-tito/spec'

/**
 * The client a rollout talks to the model server with: `chat.stream`, `chat.create` and `tokenize` of a
 * `VLLMClient` (which already carries the rollout's sticky-routing headers), plus what the runner needs to
 * keep a rollout's data whatever its code does — every call also takes the attempt's signal, every record a
 * call returned (or the partial records of an interrupted stream) is kept, and the first chat request is kept
 * so a rollout that fails before its first usable record can still be given its prompt ids.
 */
export interface RolloutModelClient extends TokenStreamingClient {
  /** `/v1/chat/completions`, streaming or not. */
  readonly chat: {
    /** A streaming call (`VLLMClient.chat.stream`). */
    stream(request: ChatRequest, options?: TokenCallOptions): TokenStream
    /** A non-streaming call (`VLLMClient.chat.create`): one record per choice. */
    create(request: ChatRequest, options?: TokenCallOptions): Promise<TokenRecord[]>
  }
  /** `POST /tokenize` (`VLLMClient.tokenize`). */
  tokenize(input: TokenizeInput, options?: { signal?: AbortSignal }): Promise<TokenizeResult>
  /** Every record the calls of this attempt produced so far, in the order the calls finished. */
  readonly records: readonly TokenRecord[]
  /** The first chat request of the attempt (its messages and tools render the task's prompt), or `null`. */
  readonly firstRequest: ChatRequest | null
  /** Chat calls made so far, by request mode. */
  readonly calls: { streamed: number; nonStreamed: number }
}

/** Wraps `client` for one rollout attempt whose calls all end when `signal` aborts. */
export function createRolloutModelClient(client: VLLMClient, signal: AbortSignal): RolloutModelClient {
  const records: TokenRecord[] = []
  const calls = { streamed: 0, nonStreamed: 0 }
  let firstRequest: ChatRequest | null = null
  const keepPartial = (error: unknown) => {
    if (StreamInterruptedError.isInstance(error)) records.push(...error.partialRecords)
  }
  const callOptions = (options: TokenCallOptions | undefined): TokenCallOptions => ({
    ...options,
    signal: options?.signal === undefined ? signal : AbortSignal.any([signal, options.signal]),
  })
  const noteRequest = (request: ChatRequest) => {
    // the messages array is copied: an agent may append to its own list after the call
    firstRequest ??= { ...request, messages: [...request.messages] }
  }
  return {
    chat: {
      stream(request, options) {
        noteRequest(request)
        calls.streamed += 1
        return keepStreamRecords(client.chat.stream(request, callOptions(options)), records, keepPartial)
      },
      async create(request, options) {
        noteRequest(request)
        calls.nonStreamed += 1
        try {
          const created = await client.chat.create(request, callOptions(options))
          records.push(...created)
          return created
        } catch (error) {
          keepPartial(error)
          throw error
        }
      },
    },
    tokenize: (input, options) =>
      client.tokenize(input, {
        signal: options?.signal === undefined ? signal : AbortSignal.any([signal, options.signal]),
      }),
    records,
    get firstRequest() {
      return firstRequest
    },
    calls,
  }
}

/**
 * The same stream, with its records kept once it ends. `final()` is only asked for once the caller uses the
 * stream (iterating or awaiting it): a `final()` before that would consume the stream behind the caller's back.
 */
function keepStreamRecords(
  inner: TokenStream,
  records: TokenRecord[],
  keepPartial: (error: unknown) => void,
): TokenStream {
  let watched = false
  const watch = () => {
    if (watched) return
    watched = true
    inner.final().then((finished) => records.push(...finished), keepPartial)
  }
  return {
    [Symbol.asyncIterator](): AsyncIterator<TokenStreamEvent> {
      const iterator = inner[Symbol.asyncIterator]()
      watch()
      return iterator
    },
    final() {
      watch()
      return inner.final()
    },
    abort: () => inner.abort(),
  }
}
