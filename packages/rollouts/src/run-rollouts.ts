import { RunCancelledError } from './errors'
import type { RolloutResult } from './rollout-types'
import { type RolloutEnd, runOneRollout } from './run-one-rollout'
import { type PlannedRollout, type RunRolloutsOptions, type RunSettings, readRunOptions } from './run-options'

/** A run in progress: iterate it (once) for results as rollouts finish. */
export interface RolloutRun extends AsyncIterable<RolloutResult> {
  /** Rollouts the run will run (the plan minus the skipped ones). */
  readonly total: number
  /** Rollouts left out by the `skip` option. */
  readonly skipped: number
}

/**
 * Runs every task's group of rollouts with bounded concurrency and yields each result as soon as it finishes
 * (not in task order). Every rollout is isolated: its own client, signal and state, so one failing rollout
 * never affects another. Each attempt has a time limit; retryable failures are retried with backoff; a rollout
 * that still fails is yielded with `status: 'failed'` and everything it captured.
 *
 * Cancelling (the `signal` option, or leaving the `for await` loop) starts no new rollout and aborts the
 * running ones, whose HTTP calls end; iteration then waits for them to settle. After a signal the iteration
 * throws {@link RunCancelledError} once the results that finished first were yielded; cancelled rollouts are
 * never yielded, so a resumed run runs them again.
 *
 * @throws InvalidOptionError (at once, before anything runs) naming a bad option or task.
 *
 * @example
 * ```ts
 * const run = runRollouts({ tasks, groupSize: 8, rollout: agentRollout(createAgent), reward, baseUrl, modelId })
 * for await (const result of run) console.log(result.rolloutId, result.status, result.reward)
 * ```
 */
export function runRollouts(options: RunRolloutsOptions): RolloutRun {
  const { settings, plan, skipped } = readRunOptions(options)
  let iterated = false
  return {
    total: plan.length,
    skipped,
    [Symbol.asyncIterator]() {
      if (iterated) throw new TypeError('runRollouts: a run can be iterated once; call runRollouts again')
      iterated = true
      return iterate(plan, settings)[Symbol.asyncIterator]()
    },
  }
}

async function* iterate(
  plan: readonly PlannedRollout[],
  settings: RunSettings,
): AsyncGenerator<RolloutResult> {
  const controller = new AbortController()
  const userSignal = settings.signal
  const forwardAbort = () => controller.abort(userSignal?.reason)
  if (userSignal?.aborted) forwardAbort()
  else userSignal?.addEventListener('abort', forwardAbort, { once: true })
  const scheduler = new Scheduler(plan, settings, controller.signal)
  let yielded = 0
  try {
    for (;;) {
      const result = await scheduler.next()
      if (result === undefined) break
      yielded += 1
      yield result
    }
    if (controller.signal.aborted) {
      throw new RunCancelledError(yielded, plan.length - yielded, controller.signal.reason)
    }
  } finally {
    userSignal?.removeEventListener('abort', forwardAbort)
    // a consumer that leaves the loop early cancels what is still running; no HTTP call outlives the run
    if (!scheduler.done) controller.abort(new DOMException('the consumer stopped iterating', 'AbortError'))
    await scheduler.settled()
  }
}

/**
 * Starts planned rollouts in order as concurrency slots free up and queues their results. One pump acquires
 * slots sequentially, so rollouts start in plan order and never more run than the limiter allows.
 */
class Scheduler {
  readonly #plan: readonly PlannedRollout[]
  readonly #settings: RunSettings
  readonly #signal: AbortSignal
  readonly #finished: RolloutResult[] = []
  readonly #running = new Set<Promise<void>>()
  #pumping = true
  #wake: (() => void) | undefined
  readonly #pump: Promise<void>

  constructor(plan: readonly PlannedRollout[], settings: RunSettings, signal: AbortSignal) {
    this.#plan = plan
    this.#settings = settings
    this.#signal = signal
    this.#pump = this.#startAll()
  }

  /** `true` once every planned rollout started and finished (or the run was cancelled and all settled). */
  get done(): boolean {
    return !this.#pumping && this.#running.size === 0 && this.#finished.length === 0
  }

  /** The next finished result, or `undefined` when there will be none. */
  async next(): Promise<RolloutResult | undefined> {
    for (;;) {
      const result = this.#finished.shift()
      if (result !== undefined) return result
      if (!this.#pumping && this.#running.size === 0) return undefined
      await new Promise<void>((resolve) => {
        this.#wake = resolve
      })
    }
  }

  /** Resolves once nothing is running any more. */
  async settled(): Promise<void> {
    await this.#pump
    while (this.#running.size > 0) await Promise.allSettled([...this.#running])
  }

  async #startAll(): Promise<void> {
    try {
      for (const planned of this.#plan) {
        let release: () => void
        try {
          release = await this.#settings.limiter.acquire(this.#signal)
        } catch {
          return
        }
        if (this.#signal.aborted) {
          release()
          return
        }
        const running: Promise<void> = runOneRollout(planned, this.#settings, this.#signal)
          .then((end: RolloutEnd) => {
            if ('result' in end) this.#finished.push(end.result)
          })
          .finally(() => {
            release()
            this.#running.delete(running)
            this.#notify()
          })
        this.#running.add(running)
      }
    } finally {
      this.#pumping = false
      this.#notify()
    }
  }

  #notify(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }
}
