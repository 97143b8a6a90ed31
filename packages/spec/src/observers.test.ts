import { describe, expect, it } from 'vitest'
import { noopClientCallObserver, noopTokenRecordObserver, noopTokenRecordSink } from './observers'
import { makeRecord } from './testing'

describe('no-op implementations', () => {
  it('accept every call and return nothing', async () => {
    const record = makeRecord()
    expect(noopTokenRecordObserver.onRecord(record, {})).toBeUndefined()
    expect(noopClientCallObserver.onAttempt({ path: '/v1/chat/completions', attempt: 1 })).toBeUndefined()
    expect(
      noopClientCallObserver.onRetry({ path: '/x', attempt: 2, delayMs: 10, error: new Error('e') }),
    ).toBeUndefined()
    expect(noopClientCallObserver.onRecords([record])).toBeUndefined()
    expect(noopClientCallObserver.onError(new Error('e'))).toBeUndefined()
    expect(noopTokenRecordSink.write({ rolloutId: 'r', callIndex: 0, record })).toBeUndefined()
    await expect(noopTokenRecordSink.flush()).resolves.toBeUndefined()
    await expect(noopTokenRecordSink.close()).resolves.toBeUndefined()
  })

  it('are frozen so nobody mutates the shared instances', () => {
    expect(Object.isFrozen(noopTokenRecordObserver)).toBe(true)
    expect(Object.isFrozen(noopClientCallObserver)).toBe(true)
    expect(Object.isFrozen(noopTokenRecordSink)).toBe(true)
  })
})
