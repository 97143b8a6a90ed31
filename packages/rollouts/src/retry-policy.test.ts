import { InvalidOptionError } from '@vllm-tito/spec'
import { describe, expect, it } from 'vitest'
import { ConcurrencyLimiter } from './concurrency-limiter'
import { DEFAULT_RETRY_POLICY, readRetryPolicy, retryDelayMs } from './retry-policy'

describe('retryDelayMs', () => {
  it('draws below an exponential cap (full jitter) and never waits less than Retry-After, within its cap', () => {
    const policy = {
      ...DEFAULT_RETRY_POLICY,
      initialDelayMs: 100,
      maxDelayMs: 1_000,
      maxRetryAfterSeconds: 5,
    }
    const top = () => 0.999_999
    expect([1, 2, 3, 4, 5].map((retry) => retryDelayMs(policy, retry, undefined, top))).toEqual([
      99, 199, 399, 799, 999,
    ])
    expect(retryDelayMs(policy, 1, undefined, () => 0)).toBe(0)
    expect(retryDelayMs(policy, 1, 2, () => 0)).toBe(2_000)
    expect(retryDelayMs(policy, 1, 30, () => 0)).toBe(5_000)
  })

  it('reads a partial policy and refuses a bad one', () => {
    expect(readRetryPolicy('test', { attempts: 5 })).toEqual({ ...DEFAULT_RETRY_POLICY, attempts: 5 })
    expect(() => readRetryPolicy('test', { attempts: 0 })).toThrow(InvalidOptionError)
    expect(() => readRetryPolicy('test', { initialDelayMs: 10, maxDelayMs: 5 })).toThrow(
      'option `maxDelayMs` (5) must be >= initialDelayMs (10)',
    )
  })
})

describe('ConcurrencyLimiter', () => {
  it('hands slots out in arrival order, never more than its limit, and lets an aborted waiter go', async () => {
    const limiter = new ConcurrencyLimiter(2)
    const first = await limiter.acquire()
    const second = await limiter.acquire()
    const order: string[] = []
    const third = limiter.acquire().then((release) => {
      order.push('third')
      return release
    })
    const controller = new AbortController()
    const aborted = limiter.acquire(controller.signal).catch((reason: unknown) => reason)
    const fourth = limiter.acquire().then((release) => {
      order.push('fourth')
      return release
    })
    expect([limiter.active, limiter.waiting]).toEqual([2, 3])
    controller.abort(new Error('gone'))
    expect(((await aborted) as Error).message).toBe('gone')
    first()
    first()
    const releaseThird = await third
    expect([limiter.active, limiter.waiting]).toEqual([2, 1])
    second()
    const releaseFourth = await fourth
    releaseThird()
    releaseFourth()
    expect(order).toEqual(['third', 'fourth'])
    expect([limiter.active, limiter.waiting]).toEqual([0, 0])
  })
})
