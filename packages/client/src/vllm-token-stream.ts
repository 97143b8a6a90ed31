import {
  type ClientCallObserver,
  StreamInterruptedError,
  type TokenRecord,
  type TokenStream,
  type TokenStreamEvent,
  VLLMTitoError,
} from '@vllm-tito/spec'
import { buildRecords } from './build-records'
import { CallAbort, type Deadline } from './call-abort'
import { EventBatch } from './event-batch'
import type { ResponseSettings } from './response-settings'
import { ResponseState } from './response-state'
import { SingleConsumer } from './single-consumer'
import { readSsePayloads } from './sse-payloads'
import { enforceTokenIdPolicy, type TokenIdPolicy } from './token-id-policy'
import { notify, type TransportResponse } from './vllm-transport'
import { MalformedResponseError, ServerErrorPayload, snippet } from './wire-errors'

/** Everything a stream needs to run one call. */
export interface TokenStreamSetup {
  /** Sends the request (with retries before the first byte) once the stream is consumed. */
  start(signal: AbortSignal): Promise<TransportResponse>
  /** How to read the answer. */
  settings: ResponseSettings
  /** What to do with missing or unverified ids once the stream ended. */
  policy: TokenIdPolicy
  /** Longest wait for the next body bytes, in milliseconds. */
  idleTimeoutMs: number
  /** Told about the records or the failure. */
  observer: ClientCallObserver
  /** The caller's signal. */
  signal?: AbortSignal
}

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
export interface VLLMTokenStream extends TokenStream {
  /** Yields the call's events in arrival order; a stream can be iterated once. */
  [Symbol.asyncIterator](): AsyncIterator<TokenStreamEvent>
  /** Resolves with one record per choice once the stream ends, consuming it if nobody iterates. */
  final(): Promise<TokenRecord[]>
  /** Aborts the HTTP request; a pending iteration or `final()` then rejects. */
  abort(): void
}

/** The {@link VLLMTokenStream} of one call, made by `VLLMClient`. */
export class TokenStreamCall implements VLLMTokenStream {
  readonly #setup: TokenStreamSetup
  readonly #abort: CallAbort
  readonly #consumer = new SingleConsumer()

  constructor(setup: TokenStreamSetup) {
    this.#setup = setup
    this.#abort = new CallAbort(setup.signal)
  }

  /**
   * Yields the call's events in arrival order; can be iterated once. Hand-written rather than an async
   * generator: events arrive in batches (one per body read), and handing out a buffered event costs one
   * resolved promise instead of a generator round trip per event.
   */
  [Symbol.asyncIterator](): AsyncIterator<TokenStreamEvent> {
    const claimed = this.#consumer.claim('iterator')
    if (claimed !== true) return { next: () => Promise.reject(claimed) }
    const batches = this.#run(new EventBatch())
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
    if (this.#consumer.claim('final') === true) void this.#drain()
    return this.#consumer.outcome
  }

  /** Aborts the HTTP request; a pending iteration or `final()` then rejects (see the class notes). */
  abort(): void {
    this.#abort.abort(new DOMException('the stream was aborted', 'AbortError'))
  }

  async #drain(): Promise<void> {
    try {
      for await (const _ of this.#run(null)) {
        // nothing to do: without an iterator no events are built
      }
    } catch {
      // #run already settled the outcome with this error
    }
  }

  /**
   * Sends the request and reads the body, yielding the events of each body read (`events: null`: none are
   * built). Settles the outcome exactly once: with the records, with the failure, or, when the consumer stops
   * early, with the partial records.
   */
  async *#run(events: EventBatch | null): AsyncGenerator<TokenStreamEvent[], void> {
    const setup = this.#setup
    const response = new ResponseState(setup.settings, events)
    let started: TransportResponse | null = null
    let reader: ReadableStreamDefaultReader<Uint8Array> | null = null
    let idle: Deadline | undefined
    let settled = false
    try {
      started = await setup.start(this.#abort.signal)
      const body = started.response.body
      if (body === null) throw new MalformedResponseError('the response has no body')
      reader = body.getReader()
      idle = this.#abort.deadline(setup.idleTimeoutMs, `no data for ${setup.idleTimeoutMs} ms`)
      const reads = readSsePayloads(reader, idle.touch)
      for (let read = await reads.next(); ; read = await reads.next()) {
        if (read.done === true) {
          if (!read.value.sawDone) throw new StreamEndedEarly(read.value.unterminated)
          break
        }
        const failure = applyPayloads(read.value, response)
        // events of the chunks before a bad one are still delivered, then the failure
        if (events !== null && events.size > 0) yield events.take()
        if (failure !== null) throw failure
      }
      const records = buildRecords(response, { timing: timingOf(started), complete: true })
      enforceTokenIdPolicy(records, setup.policy)
      // settled before the last event, so a consumer that stops at `response-end` still gets final()
      settled = true
      notify(() => setup.observer.onRecords?.(records))
      this.#consumer.resolve(records)
      if (events !== null) yield [{ type: 'response-end', records }]
    } catch (error) {
      const surfaced = this.#surface(error, response, started)
      settled = true
      notify(() => setup.observer.onError?.(surfaced))
      this.#consumer.reject(surfaced)
      throw surfaced
    } finally {
      idle?.cancel()
      if (!settled) {
        // a consumer that stops early (break, return) must not leave the connection open
        this.#abort.abort(new DOMException('the consumer stopped reading', 'AbortError'))
        const reason = 'the consumer stopped reading'
        const partial = buildRecords(response, {
          timing: timingOf(started),
          complete: false,
          interruption: reason,
        })
        this.#consumer.reject(new StreamInterruptedError('the stream was not read to the end', partial))
      }
      // after `[DONE]` nothing else is read; cancelling releases the body either way
      reader?.cancel().catch(() => {})
    }
  }

  /** Turns a failure into the error the caller sees, attaching the partial records once output started. */
  #surface(error: unknown, response: ResponseState, started: TransportResponse | null): Error {
    // the caller's abort reason is no error of the client's own, even when it is a VLLMTitoError (the rollout
    // runner's timeout): once output started it still gets the partial records
    const abortReason = this.#abort.signal.aborted && error === this.#abort.signal.reason
    if (started === null || (VLLMTitoError.isInstance(error) && !abortReason)) {
      return error instanceof Error ? error : new VLLMTitoError(String(error))
    }
    const interrupted = (reason: string, options: { cause?: unknown; statusCode?: number }) => {
      const partial = buildRecords(response, {
        timing: timingOf(started),
        complete: false,
        interruption: reason,
      })
      return new StreamInterruptedError(reason, partial, options)
    }
    if (error instanceof ServerErrorPayload) {
      const type = error.errorType === undefined ? '' : ` ${error.errorType}`
      const code = error.statusCode === undefined ? '' : ` (code ${error.statusCode}${type})`
      return interrupted(`vLLM sent an error mid-stream${code}: ${error.message}`, {
        cause: error,
        statusCode: error.statusCode,
      })
    }
    if (error instanceof StreamEndedEarly) return interrupted(error.message, { cause: error })
    if (error instanceof MalformedResponseError) {
      return interrupted(`malformed chunk: ${error.message}`, { cause: error })
    }
    const cause = this.#abort.cause
    if (cause === 'timeout') {
      const reason = `no data for ${this.#setup.idleTimeoutMs} ms (timeoutMs)`
      return interrupted(reason, { cause: this.#abort.signal.reason })
    }
    if (cause !== null) {
      return interrupted('the stream was aborted by the caller', { cause: this.#abort.signal.reason })
    }
    const detail = error instanceof Error ? describeConnectionError(error) : String(error)
    return interrupted(`the connection dropped: ${detail}`, { cause: error })
  }
}

/** The body ended before `data: [DONE]`. */
class StreamEndedEarly extends Error {
  override readonly name = 'StreamEndedEarly'

  constructor(unterminated: string) {
    const tail =
      unterminated === '' ? '' : ` (an unterminated line was dropped: ${snippet(unterminated, 80)})`
    super(`the stream ended without \`data: [DONE]\`${tail}`)
  }
}

/** Applies SSE payloads in order; a bad one stops there and is returned, so earlier events still count. */
function applyPayloads(payloads: string[], response: ResponseState): Error | null {
  for (let position = 0; position < payloads.length; position += 1) {
    const payload = payloads[position]!
    let chunk: unknown
    try {
      chunk = JSON.parse(payload)
    } catch {
      return new MalformedResponseError(`not JSON: ${snippet(payload, 120)}`)
    }
    try {
      response.apply(chunk)
    } catch (error) {
      return error instanceof Error ? error : new MalformedResponseError(String(error))
    }
  }
  return null
}

function timingOf(started: TransportResponse | null) {
  const now = Date.now()
  return { startedAt: started?.startedAt ?? now, firstByteAt: started?.firstByteAt ?? null, endedAt: now }
}

function describeConnectionError(error: Error): string {
  const cause = error.cause instanceof Error ? error.cause.message : undefined
  return cause === undefined || cause === '' ? error.message : `${error.message} (${cause})`
}
