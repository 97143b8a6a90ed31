import {
  type ClientCallObserver,
  StreamInterruptedError,
  type TokenRecord,
  type TokenStream,
  type TokenStreamEvent,
  VLLMTitoError,
} from '@vllm-tito/spec'
import { SseDecoder } from './sse-decoder'
import { type AccumulatorSettings, TokenAccumulator } from './token-accumulator'
import { enforceTokenIdPolicy, type TokenIdPolicy } from './token-id-policy'
import { abortReason, notify, type TransportResponse } from './vllm-transport'
import { MalformedResponseError, ServerErrorPayload, snippet } from './wire-errors'

/** Everything a stream needs to run one call. */
export interface TokenStreamSetup {
  /** Sends the request (with retries before the first byte) once the stream is consumed. */
  start(signal: AbortSignal): Promise<TransportResponse>
  settings: AccumulatorSettings
  policy: TokenIdPolicy
  /** Longest wait for the next body bytes, in milliseconds. */
  idleTimeoutMs: number
  observer: ClientCallObserver
  signal?: AbortSignal
}

const DONE = '[DONE]'

/**
 * One streaming call: iterate it for {@link TokenStreamEvent}s, or await {@link VLLMTokenStream.final} for the
 * records. The request is sent on first use (first `next()` or `final()`), not when the stream is created.
 * Breaking out of the iteration, {@link VLLMTokenStream.abort} or the caller's `signal` aborts the HTTP request.
 *
 * Failures: before any response arrived, the spec's `APICallError` (after retries) or, on abort, the
 * caller's abort reason; once the response started, a `StreamInterruptedError` carrying the partial records
 * (`complete: false`, status `incomplete`); after `[DONE]`, `TokenIdsUnavailableError` or
 * `TokenIdsMismatchError` when the token-id policy asks for it.
 */
export class VLLMTokenStream implements TokenStream {
  readonly #setup: TokenStreamSetup
  readonly #controller = new AbortController()
  readonly #outcome: Promise<TokenRecord[]>
  #settle!: { resolve(records: TokenRecord[]): void; reject(error: unknown): void }
  #consumer: 'none' | 'iterator' | 'final' = 'none'
  #idleTimedOut = false

  constructor(setup: TokenStreamSetup) {
    this.#setup = setup
    this.#outcome = new Promise<TokenRecord[]>((resolve, reject) => {
      this.#settle = { resolve, reject }
    })
    // the outcome is also delivered through iteration; a caller who only iterates must not see an
    // unhandled rejection from the copy kept for final()
    this.#outcome.catch(() => {})
  }

  /**
   * Yields the call's events in arrival order; can be iterated once. Hand-written rather than an async
   * generator: events arrive in batches (one per body read), and handing out a buffered event costs one
   * resolved promise instead of a generator round trip per event.
   */
  [Symbol.asyncIterator](): AsyncIterator<TokenStreamEvent> {
    if (this.#consumer !== 'none') {
      const consumer = this.#consumer === 'final' ? 'final()' : 'another iteration'
      const error = new VLLMTitoError(
        `this TokenStream is already consumed by ${consumer}; a stream can be read once`,
      )
      return { next: () => Promise.reject(error) }
    }
    this.#consumer = 'iterator'
    const batches = this.#run(true)
    let batch: TokenStreamEvent[] = []
    let position = 0
    return {
      next: async (): Promise<IteratorResult<TokenStreamEvent>> => {
        while (position >= batch.length) {
          const result = await batches.next()
          if (result.done === true) return { done: true, value: undefined }
          batch = result.value
          position = 0
        }
        const value = batch[position]!
        position += 1
        return { done: false, value }
      },
      return: async (): Promise<IteratorResult<TokenStreamEvent>> => {
        await batches.return()
        return { done: true, value: undefined }
      },
    }
  }

  /** Resolves with one record per choice once the stream ends, consuming it if nobody iterates. */
  final(): Promise<TokenRecord[]> {
    if (this.#consumer === 'none') {
      this.#consumer = 'final'
      void this.#drain()
    }
    return this.#outcome
  }

  /** Aborts the HTTP request; a pending iteration or `final()` then rejects (see the class notes). */
  abort(): void {
    this.#controller.abort(new DOMException('the stream was aborted', 'AbortError'))
  }

  async #drain(): Promise<void> {
    try {
      for await (const _ of this.#run(false)) {
        // nothing to do: without an iterator no events are built
      }
    } catch {
      // #run already settled the outcome with this error
    }
  }

  /** Reads the response and yields the events of each body read (batches; empty batches are skipped). */
  async *#run(collect: boolean): AsyncGenerator<TokenStreamEvent[], void> {
    const setup = this.#setup
    const controller = this.#controller
    const userSignal = setup.signal
    const forwardAbort = () => controller.abort(userSignal?.reason)
    if (userSignal?.aborted) forwardAbort()
    else userSignal?.addEventListener('abort', forwardAbort, { once: true })
    const accumulator = new TokenAccumulator(setup.settings)
    let started: TransportResponse | null = null
    let reader: ReadableStreamDefaultReader<Uint8Array> | null = null
    let finished = false
    let idleTimer: NodeJS.Timeout | undefined
    try {
      try {
        started = await setup.start(controller.signal)
      } catch (error) {
        throw controller.signal.aborted ? abortReason(controller.signal, error) : error
      }
      const body = started.response.body
      if (body === null) throw new MalformedResponseError('the response has no body')
      reader = body.getReader()
      let lastActivity = Date.now()
      const idleTimeoutMs = setup.idleTimeoutMs
      // one timer per stream, re-armed lazily, instead of a timer per chunk
      const checkIdle = () => {
        const idleFor = Date.now() - lastActivity
        if (idleFor >= idleTimeoutMs) {
          this.#idleTimedOut = true
          controller.abort(new DOMException(`no data for ${idleTimeoutMs} ms`, 'TimeoutError'))
        } else {
          idleTimer = setTimeout(checkIdle, idleTimeoutMs - idleFor)
        }
      }
      idleTimer = setTimeout(checkIdle, idleTimeoutMs)
      const decoder = new SseDecoder()
      const payloads: string[] = []
      let sawDone = false
      while (!sawDone) {
        const { done, value } = await reader.read()
        lastActivity = Date.now()
        if (done) break
        if (decoder.push(value, payloads) === 0) continue
        const events: TokenStreamEvent[] | null = collect ? [] : null
        const applied = applyPayloads(payloads, accumulator, events)
        // events of the chunks before a bad one are still delivered, then the failure
        if (events !== null && events.length > 0) yield events
        if (applied.failure !== null) throw applied.failure
        sawDone = applied.sawDone
      }
      if (!sawDone) {
        const { unterminated } = decoder.end(payloads)
        const events: TokenStreamEvent[] | null = collect ? [] : null
        const applied = applyPayloads(payloads, accumulator, events)
        if (events !== null && events.length > 0) yield events
        if (applied.failure !== null) throw applied.failure
        sawDone = applied.sawDone
        if (!sawDone) {
          const tail =
            unterminated === '' ? '' : ` (an unterminated line was dropped: ${snippet(unterminated, 80)})`
          throw new StreamEndedEarly(`the stream ended without \`data: [DONE]\`${tail}`)
        }
      }
      finished = true
      const records = accumulator.records(this.#timing(started), true)
      enforceTokenIdPolicy(records, setup.policy)
      // settled before the last event, so a consumer that stops at `response-end` still gets final()
      notify(() => setup.observer.onRecords(records))
      this.#settle.resolve(records)
      if (collect) yield [{ type: 'response-end', records }]
    } catch (error) {
      const surfaced = this.#surface(error, accumulator, started)
      notify(() => setup.observer.onError(surfaced as Error))
      this.#settle.reject(surfaced)
      throw surfaced
    } finally {
      clearTimeout(idleTimer)
      userSignal?.removeEventListener('abort', forwardAbort)
      if (!finished) {
        // a consumer that stops early (break, return, error) must not leave the connection open
        if (!controller.signal.aborted)
          controller.abort(new DOMException('the consumer stopped reading', 'AbortError'))
        this.#settle.reject(
          new StreamInterruptedError(
            'the stream was not read to the end',
            accumulator.records(this.#timing(started), false, 'the consumer stopped reading'),
          ),
        )
      }
      if (reader !== null) {
        // after `[DONE]` nothing else is read; cancelling releases the body either way
        reader.cancel().catch(() => {})
      }
    }
  }

  #timing(started: TransportResponse | null) {
    const now = Date.now()
    return { startedAt: started?.startedAt ?? now, firstByteAt: started?.firstByteAt ?? null, endedAt: now }
  }

  /** Turns a failure into the error the caller sees, attaching the partial records once output started. */
  #surface(error: unknown, accumulator: TokenAccumulator, started: TransportResponse | null): unknown {
    if (VLLMTitoError.isInstance(error) || started === null) return error
    const partial = (reason: string) => accumulator.records(this.#timing(started), false, reason)
    if (error instanceof ServerErrorPayload) {
      const type = error.errorType === undefined ? '' : ` ${error.errorType}`
      const code = error.statusCode === undefined ? '' : ` (code ${error.statusCode}${type})`
      const reason = `vLLM sent an error mid-stream${code}: ${error.message}`
      return new StreamInterruptedError(reason, partial(reason), {
        cause: error,
        statusCode: error.statusCode,
      })
    }
    if (error instanceof MalformedResponseError || error instanceof StreamEndedEarly) {
      const reason = error instanceof StreamEndedEarly ? error.message : `malformed chunk: ${error.message}`
      return new StreamInterruptedError(reason, partial(reason), { cause: error })
    }
    const signal = this.#controller.signal
    if (this.#idleTimedOut) {
      const reason = `no data for ${this.#setup.idleTimeoutMs} ms (timeoutMs)`
      return new StreamInterruptedError(reason, partial(reason), { cause: signal.reason })
    }
    if (signal.aborted) {
      const reason = 'the stream was aborted by the caller'
      return new StreamInterruptedError(reason, partial(reason), { cause: signal.reason })
    }
    const detail = error instanceof Error ? describeConnectionError(error) : String(error)
    const reason = `the connection dropped: ${detail}`
    return new StreamInterruptedError(reason, partial(reason), { cause: error })
  }
}

/** The body ended before `data: [DONE]`. */
class StreamEndedEarly extends Error {
  override readonly name = 'StreamEndedEarly'
}

/**
 * Applies SSE payloads in order until `[DONE]` (later payloads are ignored). A bad payload stops the loop and
 * is returned as `failure`, so the events of the payloads before it can still be delivered.
 */
function applyPayloads(
  payloads: string[],
  accumulator: TokenAccumulator,
  events: TokenStreamEvent[] | null,
): { sawDone: boolean; failure: Error | null } {
  let sawDone = false
  let failure: Error | null = null
  for (let position = 0; position < payloads.length; position += 1) {
    const payload = payloads[position]!
    if (payload === DONE) {
      sawDone = true
      break
    }
    try {
      accumulator.apply(parseChunk(payload), events)
    } catch (error) {
      failure = error instanceof Error ? error : new MalformedResponseError(String(error))
      break
    }
  }
  payloads.length = 0
  return { sawDone, failure }
}

function parseChunk(payload: string): unknown {
  try {
    return JSON.parse(payload)
  } catch {
    throw new MalformedResponseError(`not JSON: ${snippet(payload, 120)}`)
  }
}

function describeConnectionError(error: Error): string {
  const cause = error.cause instanceof Error ? error.cause.message : undefined
  return cause === undefined || cause === '' ? error.message : `${error.message} (${cause})`
}
