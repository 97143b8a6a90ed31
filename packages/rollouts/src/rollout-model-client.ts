import type { TokenCallOptions, TokenizeInput, TokenizeResult, VLLMClient } from '@vllm-tito/client'
import {
  type ChatRequest,
  type CompletionRequest,
  StreamInterruptedError,
  type TokenRecord,
  type TokenStream,
  type TokenStreamEvent,
  type TokenStreamingClient,
} from '@vllm-tito/spec'

/** One endpoint of the rollout's client: the three ways `VLLMClient` calls it. */
export interface RolloutEndpoint<Request> {
  /** A streaming call (`VLLMClient.<endpoint>.stream`). */
  stream(request: Request, options?: TokenCallOptions): TokenStream
  /** A non-streaming call (`VLLMClient.<endpoint>.create`): one record per choice. */
  create(request: Request, options?: TokenCallOptions): Promise<TokenRecord[]>
  /**
   * A non-streaming call read as the events a stream of the same reply gives
   * (`VLLMClient.<endpoint>.createEvents`): what `VLLMModel` calls with `stream: false`.
   */
  createEvents(request: Request, options?: TokenCallOptions): TokenStream
}

/**
 * The client a rollout talks to the model server with: `chat`, `completions` and `tokenize` of a `VLLMClient`
 * (which already carries the rollout's sticky-routing headers), plus what the runner needs to keep a rollout's
 * data whatever its code does — every call also takes the attempt's signal, every record a call returned (or
 * the partial records of an interrupted stream) is kept, and the first chat request is kept so a rollout that
 * fails before its first usable record can still be given its prompt ids.
 */
export interface RolloutModelClient extends TokenStreamingClient {
  /** `/v1/chat/completions`, streaming or not. */
  readonly chat: RolloutEndpoint<ChatRequest>
  /** `/v1/completions` (token in: `prompt` may be token ids), streaming or not. */
  readonly completions: RolloutEndpoint<CompletionRequest>
  /** `POST /tokenize` (`VLLMClient.tokenize`). */
  tokenize(input: TokenizeInput, options?: { signal?: AbortSignal }): Promise<TokenizeResult>
  /** Every record the calls of this attempt produced so far, in the order the calls finished. */
  readonly records: readonly TokenRecord[]
  /** The first chat request of the attempt (its messages and tools render the task's prompt), or `null`. */
  readonly firstRequest: ChatRequest | null
  /**
   * Model calls (chat and completions) made so far, by request mode: `streamed` (`stream`), `nonStreamed`
   * (`create` and `createEvents`).
   */
  readonly calls: { streamed: number; nonStreamed: number }
}

/** The runner's side of an attempt's client: the client, and a wait for the records still on their way. */
export interface AttemptClient extends RolloutModelClient {
  /**
   * Resolves once every call made so far has settled and left its records (an aborted stream's partial ones
   * arrive a moment after the abort that ended the attempt).
   */
  callsSettled(): Promise<void>
}

/** Wraps `client` for one rollout attempt whose calls all end when `signal` aborts. */
export function createRolloutModelClient(client: VLLMClient, signal: AbortSignal): AttemptClient {
  const records: TokenRecord[] = []
  const calls = { streamed: 0, nonStreamed: 0 }
  const unsettled = new Set<Promise<unknown>>()
  let firstRequest: ChatRequest | null = null
  function withSignal<Options extends { signal?: AbortSignal }>(options: Options | undefined): Options {
    const own = options?.signal
    return { ...options, signal: own === undefined ? signal : AbortSignal.any([signal, own]) } as Options
  }
  const track = (call: Promise<unknown>) => {
    const settled = call.then(
      () => {},
      () => {},
    )
    unsettled.add(settled)
    settled.then(() => unsettled.delete(settled))
  }
  const keeper: RecordKeeper = { records, calls, withSignal, track }
  return {
    async callsSettled() {
      while (unsettled.size > 0) await Promise.all([...unsettled])
    },
    chat: wrapEndpoint(client.chat, keeper, (request) => {
      // the messages array is copied: an agent may append to its own list after the call
      firstRequest ??= { ...request, messages: [...request.messages] }
    }),
    completions: wrapEndpoint(client.completions, keeper, () => {}),
    tokenize: (input, options) => client.tokenize(input, withSignal(options)),
    records,
    get firstRequest() {
      return firstRequest
    },
    calls,
  }
}

/** What every wrapped call shares: where records go, the call counts, and the attempt's signal. */
interface RecordKeeper {
  records: TokenRecord[]
  calls: { streamed: number; nonStreamed: number }
  withSignal<Options extends { signal?: AbortSignal }>(options: Options | undefined): Options
  /** Notes a call whose records are kept once it settles. */
  track(call: Promise<unknown>): void
}

/** One endpoint whose calls take the attempt's signal, are counted by mode, and leave their records. */
function wrapEndpoint<Request>(
  endpoint: RolloutEndpoint<Request>,
  keeper: RecordKeeper,
  noteRequest: (request: Request) => void,
): RolloutEndpoint<Request> {
  const { records, calls, withSignal } = keeper
  return {
    stream(request, options) {
      noteRequest(request)
      calls.streamed += 1
      return keepStreamRecords(endpoint.stream(request, withSignal(options)), keeper)
    },
    create(request, options) {
      noteRequest(request)
      calls.nonStreamed += 1
      const created = endpoint.create(request, withSignal(options)).then(
        (created) => {
          records.push(...created)
          return created
        },
        (error: unknown) => {
          keepPartial(error, records)
          throw error
        },
      )
      keeper.track(created)
      return created
    },
    createEvents(request, options) {
      noteRequest(request)
      calls.nonStreamed += 1
      return keepStreamRecords(endpoint.createEvents(request, withSignal(options)), keeper)
    },
  }
}

function keepPartial(error: unknown, records: TokenRecord[]): void {
  if (StreamInterruptedError.isInstance(error)) records.push(...error.partialRecords)
}

/**
 * The same stream, with its records kept once it ends. `final()` is only asked for once the caller uses the
 * stream (iterating or awaiting it): a `final()` before that would consume the stream behind the caller's back.
 */
function keepStreamRecords(inner: TokenStream, keeper: RecordKeeper): TokenStream {
  const { records } = keeper
  let watched = false
  const watch = () => {
    if (watched) return
    watched = true
    keeper.track(
      inner.final().then(
        (finished) => records.push(...finished),
        (error: unknown) => keepPartial(error, records),
      ),
    )
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
