import type { RolloutResult } from '../rollout-types'

/** How progress is shown: a redrawn bar (a terminal), plain lines (a log), or nothing. */
export type ProgressMode = 'bar' | 'lines' | 'none'

/** Options of {@link ProgressReporter}. */
export interface ProgressReporterOptions {
  /** Rollouts this run will run. */
  total: number
  /** Where to write (stderr, so stdout stays for the summary). */
  output: NodeJS.WritableStream
  /** `bar`, `lines` or `none`. */
  mode: ProgressMode
  /** Bar: the shortest time between redraws, ms. Lines: the time between lines, ms. */
  intervalMs?: number
  /** The clock, ms (tests pass their own). Default `performance.now`. */
  now?: () => number
}

const BAR_WIDTH = 24

/** Progress of a run: done, failed, rate, ETA and tokens per second, as a bar or as lines. */
export class ProgressReporter {
  readonly #options: Required<ProgressReporterOptions>
  readonly #startedAt: number
  #done = 0
  #failed = 0
  #tokens = 0
  #lastShownAt = Number.NEGATIVE_INFINITY
  #lastShownDone = -1

  constructor(options: ProgressReporterOptions) {
    this.#options = {
      intervalMs: options.mode === 'bar' ? 100 : 5_000,
      now: () => performance.now(),
      ...options,
    }
    this.#startedAt = this.#options.now()
  }

  /** Counts a finished rollout and shows progress when it is time to. */
  update(result: RolloutResult): void {
    this.#done += 1
    if (result.status === 'failed') this.#failed += 1
    for (const record of result.records) this.#tokens += record.tokenIds?.length ?? 0
    const now = this.#options.now()
    if (now - this.#lastShownAt < this.#options.intervalMs && this.#done < this.#options.total) return
    this.#lastShownAt = now
    this.#show(now)
  }

  /** Shows the final state, unless it is already shown (and ends the bar's line). */
  finish(): void {
    if (this.#options.mode === 'none') return
    if (this.#lastShownDone !== this.#done || this.#options.mode === 'bar') this.#show(this.#options.now())
    if (this.#options.mode === 'bar') this.#options.output.write('\n')
  }

  /** The progress text at time `now` (ms on the reporter's clock). */
  describe(now: number): string {
    const { total } = this.#options
    const seconds = Math.max((now - this.#startedAt) / 1000, 1e-3)
    const rate = this.#done / seconds
    const remaining = total - this.#done
    const eta = this.#done === 0 ? 'ETA –' : `ETA ${formatDuration(remaining / rate)}`
    const percent = total === 0 ? 100 : Math.floor((this.#done / total) * 100)
    return [
      `${this.#done}/${total} done (${percent}%)`,
      `${this.#failed} failed`,
      `${rate.toFixed(1)} rollouts/s`,
      eta,
      `${formatCount(this.#tokens / seconds)} tokens/s`,
    ].join(' · ')
  }

  #show(now: number): void {
    const { mode, output, total } = this.#options
    if (mode === 'none') return
    this.#lastShownDone = this.#done
    const text = this.describe(now)
    if (mode === 'lines') {
      output.write(`rollouts: ${text}\n`)
      return
    }
    const filled = total === 0 ? BAR_WIDTH : Math.round((this.#done / total) * BAR_WIDTH)
    output.write(`\r\x1b[2K[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${text}`)
  }
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '–'
  if (seconds < 60) return `${Math.ceil(seconds)} s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes} min ${Math.ceil(seconds % 60)} s`
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`
}

function formatCount(value: number): string {
  if (value >= 10_000) return `${(value / 1000).toFixed(1)}k`
  return value.toFixed(0)
}
