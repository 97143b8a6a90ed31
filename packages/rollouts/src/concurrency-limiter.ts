/**
 * A counting semaphore: at most `limit` holders at once, the others wait in arrival order. One limiter can be
 * shared by several runs (the rollout service shares one between its requests), so the bound holds for the
 * whole process.
 */
export class ConcurrencyLimiter {
  /** The most holders at once. */
  readonly limit: number
  #active = 0
  readonly #waiting: Array<{ grant: () => void; signal: AbortSignal | undefined; onAbort: () => void }> = []

  constructor(limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new RangeError(`ConcurrencyLimiter: limit must be an integer >= 1, got ${limit}`)
    }
    this.limit = limit
  }

  /** Holders right now. */
  get active(): number {
    return this.#active
  }

  /** Callers waiting for a slot right now. */
  get waiting(): number {
    return this.#waiting.length
  }

  /**
   * Resolves with a release function once a slot is free; rejects with the signal's reason if it aborts first
   * (the caller then holds nothing). Call the release function exactly once; later calls do nothing.
   */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason)
    if (this.#active < this.limit) {
      this.#active += 1
      return Promise.resolve(this.#releaser())
    }
    return new Promise((resolve, reject) => {
      const entry = {
        grant: () => {
          signal?.removeEventListener('abort', entry.onAbort)
          resolve(this.#releaser())
        },
        signal,
        onAbort: () => {
          const index = this.#waiting.indexOf(entry)
          if (index !== -1) this.#waiting.splice(index, 1)
          reject(signal?.reason)
        },
      }
      signal?.addEventListener('abort', entry.onAbort, { once: true })
      this.#waiting.push(entry)
    })
  }

  #releaser(): () => void {
    let released = false
    return () => {
      if (released) return
      released = true
      const next = this.#waiting.shift()
      // the slot passes straight to the next waiter, so `active` never dips below the demand
      if (next) next.grant()
      else this.#active -= 1
    }
  }
}
