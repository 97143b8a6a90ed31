import { makeRecord } from '@vllm-tito/spec/testing'
import { expect, test } from 'vitest'
import { MemorySink } from './memory-sink'

test('keeps entries in arrival order and reads one rollout back by call index', () => {
  const sink = new MemorySink()
  const a0 = makeRecord({ responseId: 'a0' })
  const b0 = makeRecord({ responseId: 'b0' })
  const a1 = makeRecord({ responseId: 'a1' })
  sink.write({ rolloutId: 'a', callIndex: 1, record: a1 })
  sink.write({ rolloutId: 'b', callIndex: 0, record: b0 })
  sink.write({ rolloutId: 'a', callIndex: 0, record: a0 })
  expect(sink.entries.map((entry) => entry.record.responseId)).toEqual(['a1', 'b0', 'a0'])
  expect(sink.recordsOf('a')).toEqual([a0, a1])
  expect(sink.recordsOf('c')).toEqual([])
  expect(sink.rolloutIds()).toEqual(['a', 'b'])
})

test('refuses writes after close and keeps what it has', async () => {
  const sink = new MemorySink()
  sink.write({ rolloutId: 'a', callIndex: 0, record: makeRecord() })
  await sink.flush()
  await sink.close()
  expect(() => sink.write({ rolloutId: 'a', callIndex: 1, record: makeRecord() })).toThrow(
    'MemorySink: write after close (rollout a)',
  )
  expect(sink.entries).toHaveLength(1)
})
