import { getEventListeners } from 'node:events'
import { describe, expect, it } from 'vitest'
import { untilAborted } from './until-aborted'

describe('untilAborted', () => {
  it('settles with the work while the signal holds, and leaves no abort listener behind', async () => {
    const controller = new AbortController()
    await expect(untilAborted(Promise.resolve(7), controller.signal)).resolves.toBe(7)
    await expect(untilAborted(Promise.reject(new RangeError('no')), controller.signal)).rejects.toThrow('no')
    // thousands of waits on one run's signal must not pile up listeners on it
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
  })

  it('rejects with the reason when the signal aborts first, or has already, without waiting for the work', async () => {
    const never = new Promise<number>(() => {})
    const controller = new AbortController()
    const waiting = untilAborted(never, controller.signal)
    controller.abort(new Error('cancelled'))
    await expect(waiting).rejects.toThrow('cancelled')
    await expect(untilAborted(never, AbortSignal.abort(new Error('already')))).rejects.toThrow('already')
  })

  it('swallows a later rejection of the work it stopped waiting for, and is the work itself without a signal', async () => {
    let fail = (_error: Error) => {}
    const work = new Promise<number>((_resolve, reject) => {
      fail = reject
    })
    const controller = new AbortController()
    const waiting = untilAborted(work, controller.signal)
    controller.abort(new Error('cancelled'))
    await expect(waiting).rejects.toThrow('cancelled')
    fail(new Error('the work failed after the wait ended'))
    await new Promise((resolve) => setTimeout(resolve, 0))
    const own = Promise.resolve(1)
    expect(untilAborted(own, undefined)).toBe(own)
  })
})
