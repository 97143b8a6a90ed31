import { describe, expect, it } from 'vitest'
import { testIo } from '../__fixtures__/command-io'
import type { RolloutResult } from '../rollout-types'
import { ProgressReporter } from './progress-reporter'

function finished(status: 'succeeded' | 'failed', tokens: number): RolloutResult {
  return {
    status,
    records: [{ tokenIds: Array.from({ length: tokens }, () => 1) }],
  } as unknown as RolloutResult
}

describe('ProgressReporter', () => {
  it('prints done, failed, rate, ETA and tokens/s as lines at most every interval, and the final state once', () => {
    let now = 0
    const io = testIo()
    const progress = new ProgressReporter({
      total: 4,
      output: io.stderr,
      mode: 'lines',
      intervalMs: 5_000,
      now: () => now,
    })
    now = 1_000
    progress.update(finished('succeeded', 100))
    now = 2_000
    progress.update(finished('failed', 0))
    now = 4_000
    progress.update(finished('succeeded', 300))
    now = 8_000
    progress.update(finished('succeeded', 400))
    progress.finish()
    expect(io.stderr.text).toBe(
      [
        'rollouts: 1/4 done (25%) · 0 failed · 1.0 rollouts/s · ETA 3 s · 100 tokens/s',
        'rollouts: 4/4 done (100%) · 1 failed · 0.5 rollouts/s · ETA 0 s · 100 tokens/s',
        '',
      ].join('\n'),
    )
  })

  it('redraws one bar line on a terminal', () => {
    let now = 0
    const io = testIo()
    const progress = new ProgressReporter({
      total: 2,
      output: io.stderr,
      mode: 'bar',
      intervalMs: 0,
      now: () => now,
    })
    now = 1_000
    progress.update(finished('succeeded', 10))
    progress.finish()
    expect(io.stderr.text.startsWith('\r\x1b[2K[############------------] 1/2 done (50%)')).toBe(true)
    expect(io.stderr.text.endsWith('\n')).toBe(true)
  })
})
