/** Why a call's signal fired. */
export type AbortCause = 'caller' | 'timeout' | 'stopped'

/** A deadline of a call: re-armed by {@link Deadline.touch}, removed by {@link Deadline.cancel}. */
export interface Deadline {
  /** Something arrived: the time left starts again from the full length. */
  touch(): void
  /** The deadline no longer applies. */
  cancel(): void
}

/**
 * The abort wiring of one call, shared by the stream and the non-streaming path. Its {@link signal} joins the
 * caller's signal and the call's own aborts (`stream.abort()`, a consumer that stops reading, a deadline) with
 * `AbortSignal.any`; deadlines run on `AbortSignal.timeout`. Hand the signal to the transport: aborting it
 * also aborts a body being read. {@link cause} tells afterwards which of them fired.
 */
export class CallAbort {
  /** Aborts when the caller aborts, {@link abort} is called or a deadline passes. */
  readonly signal: AbortSignal
  readonly #caller: AbortSignal | undefined
  readonly #own = new AbortController()
  #timedOut = false

  constructor(callerSignal?: AbortSignal) {
    this.#caller = callerSignal
    this.signal =
      callerSignal === undefined ? this.#own.signal : AbortSignal.any([callerSignal, this.#own.signal])
  }

  /** Aborts the call with `reason`, unless it is aborted already. */
  abort(reason: unknown): void {
    this.#own.abort(reason)
  }

  /** Which source fired first, or `null` while the signal has not fired. */
  get cause(): AbortCause | null {
    if (!this.signal.aborted) return null
    if (this.#caller?.aborted === true && this.signal.reason === this.#caller.reason) return 'caller'
    return this.#timedOut ? 'timeout' : 'stopped'
  }

  /** The error to surface for an abort: the signal's reason when it is an error, else a DOM `AbortError`. */
  get reasonError(): Error {
    return abortReasonError(this.signal)
  }

  /**
   * Aborts the call with a `TimeoutError` when `milliseconds` pass without a {@link Deadline.touch}: the
   * whole wait when nothing touches it (a non-streaming body), the longest silence for a stream. Only one
   * timer runs at a time; a touch just notes the time, and the timer re-arms for the rest when it fires early.
   */
  deadline(milliseconds: number, description: string): Deadline {
    let lastActivity = Date.now()
    let timer: AbortSignal | null = null
    const arm = (delay: number) => {
      timer = AbortSignal.timeout(delay)
      timer.addEventListener('abort', onTimer, { once: true })
    }
    const onTimer = () => {
      const idleFor = Date.now() - lastActivity
      if (idleFor < milliseconds) {
        arm(milliseconds - idleFor)
        return
      }
      this.#timedOut = !this.signal.aborted
      this.#own.abort(new DOMException(description, 'TimeoutError'))
    }
    arm(milliseconds)
    return {
      touch: () => {
        lastActivity = Date.now()
      },
      cancel: () => {
        timer?.removeEventListener('abort', onTimer)
        timer = null
      },
    }
  }
}

/** The error to surface for an aborted `signal`: its reason when that is an error, else a DOM `AbortError`. */
export function abortReasonError(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason
  if (reason instanceof Error) return reason
  return new DOMException('the request was aborted', 'AbortError')
}
