import { expect, test } from 'vitest'
import { backoffDelayMs, type EventPostSettings } from './post-event'

function settings(random: number): EventPostSettings {
  return {
    fetch: globalThis.fetch,
    maxAttempts: 8,
    initialBackoffMs: 250,
    maxBackoffMs: 4_000,
    timeoutMs: 1_000,
    random: () => random,
    onRetry: undefined,
  }
}

test('the delay doubles per retry up to the cap (jitter factor 1 at random 0.5)', () => {
  expect([0, 1, 2, 3, 4, 5, 6].map((index) => backoffDelayMs(index, settings(0.5)))).toEqual([
    250, 500, 1_000, 2_000, 4_000, 4_000, 4_000,
  ])
})

test('jitter spreads each delay from 0.75x to 1.25x', () => {
  expect(backoffDelayMs(1, settings(0))).toBe(375)
  expect(backoffDelayMs(1, settings(0.999_999))).toBe(625)
  expect(backoffDelayMs(6, settings(0.999_999))).toBe(5_000)
})
