import { spawnSync } from 'node:child_process'
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { TaggedTokenRecord } from '@vllm-tito/spec'
import { makeRecord } from '@vllm-tito/spec/testing'
import { afterAll, describe, expect, test } from 'vitest'
import { JsonlFileSink } from './jsonl-file-sink'
import { parseJsonlRecords, readJsonlRecords } from './read-jsonl-records'
import type { RecorderError } from './recorder-error'
import { TokenRecorder } from './token-recorder'

const folder = mkdtempSync(join(tmpdir(), 'recorder-jsonl-'))
let fileCount = 0
function freshPath(): string {
  fileCount += 1
  return join(folder, `records-${fileCount}.jsonl`)
}

afterAll(() => {
  rmSync(folder, { recursive: true, force: true })
})

describe('JsonlFileSink', () => {
  test('each record is in the file, one line each, as soon as the call is recorded (before close)', async () => {
    const path = freshPath()
    const sink = new JsonlFileSink(path)
    const recorder = new TokenRecorder({ sink, rolloutId: 'rollout-1' })
    const first = makeRecord({ responseId: 'chatcmpl-a', logprobs: [-0.25, -0.5] })
    const second = makeRecord({ responseId: 'chatcmpl-b', text: 'naïve “quotes” 🙂\nnew line' })

    recorder.record(first)
    expect(readFileSync(path, 'utf8').split('\n')).toEqual([
      JSON.stringify({ rolloutId: 'rollout-1', callIndex: 0, record: first }),
      '',
    ])
    recorder.record(second)
    const { entries, truncatedTail } = await readJsonlRecords(path)
    expect(truncatedTail).toBe(false)
    expect(entries).toEqual([
      { rolloutId: 'rollout-1', callIndex: 0, record: first },
      { rolloutId: 'rollout-1', callIndex: 1, record: second },
    ])
    expect(sink.linesWritten).toBe(2)
    expect(sink.bytesWritten).toBe(Buffer.byteLength(readFileSync(path, 'utf8')))
    await sink.close()
  })

  test('a crashed process (SIGKILL, sink never closed) loses nothing it had recorded', () => {
    const path = freshPath()
    const fixture = fileURLToPath(new URL('./__fixtures__/crash-after-writes.ts', import.meta.url))
    const child = spawnSync(
      process.execPath,
      ['--conditions=@vllm-tito/source', '--import', 'tsx', fixture, path, '3'],
      { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8', timeout: 20_000 },
    )
    expect(child.signal).toBe('SIGKILL')
    const { entries, truncatedTail } = parseJsonlRecords(readFileSync(path, 'utf8'), path)
    expect(truncatedTail).toBe(false)
    expect(entries.map((entry) => [entry.rolloutId, entry.callIndex, entry.record.responseId])).toEqual([
      ['crashing-rollout', 0, 'chatcmpl-0'],
      ['crashing-rollout', 1, 'chatcmpl-1'],
      ['crashing-rollout', 2, 'chatcmpl-2'],
    ])
    expect(entries[2]?.record.tokenIds).toEqual([2, 151645])
  })

  test('appends to an existing file and creates missing folders', async () => {
    const path = join(folder, 'nested', 'deeper', 'records.jsonl')
    const earlier = new JsonlFileSink(path)
    earlier.write({ rolloutId: 'r', callIndex: 0, record: makeRecord({ responseId: 'old' }) })
    await earlier.close()
    const later = new JsonlFileSink(path, { fsync: true })
    later.write({ rolloutId: 'r', callIndex: 1, record: makeRecord({ responseId: 'new' }) })
    await later.flush()
    await later.close()
    const { entries } = await readJsonlRecords(path)
    expect(entries.map((entry) => entry.record.responseId)).toEqual(['old', 'new'])
  })

  test('many recorders sharing one file each get whole lines, tagged with their rollout', async () => {
    const path = freshPath()
    const sink = new JsonlFileSink(path)
    const recorders = ['a', 'b', 'c'].map((rolloutId) => new TokenRecorder({ sink, rolloutId }))
    for (let call = 0; call < 4; call += 1) {
      for (const recorder of recorders) {
        recorder.record(makeRecord({ responseId: `${recorder.rolloutId}-${call}` }))
      }
    }
    await sink.close()
    const { entries } = await readJsonlRecords(path)
    expect(entries).toHaveLength(12)
    for (const rolloutId of ['a', 'b', 'c']) {
      const mine = entries.filter((entry) => entry.rolloutId === rolloutId)
      expect(mine.map((entry) => [entry.callIndex, entry.record.responseId])).toEqual([
        [0, `${rolloutId}-0`],
        [1, `${rolloutId}-1`],
        [2, `${rolloutId}-2`],
        [3, `${rolloutId}-3`],
      ])
    }
  })

  test('a write after close is refused; the recorder reports it and keeps the record', async () => {
    const sink = new JsonlFileSink(freshPath())
    await sink.close()
    await sink.close()
    const errors: RecorderError[] = []
    const recorder = new TokenRecorder({ sink, rolloutId: 'r', onError: (error) => errors.push(error) })
    recorder.record(makeRecord())
    expect(recorder.history).toHaveLength(1)
    expect(errors.map((error) => error.message)).toEqual([
      `TokenRecorder: sink write failed on call 0: JsonlFileSink: write after close (${sink.path})`,
    ])
  })

  test('an unwritable path gives a sink error naming the path', () => {
    const blocker = freshPath()
    appendFileSync(blocker, 'a file, not a folder')
    const sink = new JsonlFileSink(join(blocker, 'records.jsonl'))
    expect(() => sink.write({ rolloutId: 'r', callIndex: 0, record: makeRecord() })).toThrow(
      `JsonlFileSink: cannot append to ${join(blocker, 'records.jsonl')}`,
    )
  })

  test('resuming a file a crash left with a cut line: the new lines stand alone and are read back', async () => {
    const path = freshPath()
    const before = { rolloutId: 'r', callIndex: 0, record: makeRecord({ responseId: 'before-crash' }) }
    const inFlight = { rolloutId: 'r', callIndex: 1, record: makeRecord({ responseId: 'in-flight' }) }
    // what a process killed in the middle of its append leaves behind
    appendFileSync(path, `${JSON.stringify(before)}\n${JSON.stringify(inFlight).slice(0, 50)}`)
    const resumed = { rolloutId: 'r', callIndex: 1, record: makeRecord({ responseId: 'resumed' }) }
    const sink = new JsonlFileSink(path)
    sink.write(resumed)
    sink.write({ ...resumed, callIndex: 2 })
    await sink.close()
    expect(await readJsonlRecords(path)).toEqual({
      entries: [before, resumed, { ...resumed, callIndex: 2 }],
      cutLines: [2],
      truncatedTail: false,
    })
  })

  test('an entry that cannot be serialised is a sink error and writes nothing', async () => {
    const path = freshPath()
    const sink = new JsonlFileSink(path)
    const unserialisable = {
      rolloutId: 'r',
      callIndex: 0,
      record: makeRecord({ text: 1n as unknown as string }),
    }
    expect(() => sink.write(unserialisable)).toThrow(
      'JsonlFileSink: cannot serialise the entry: Do not know how to serialize a BigInt',
    )
    sink.write({ rolloutId: 'r', callIndex: 0, record: makeRecord() })
    await sink.close()
    expect((await readJsonlRecords(path)).entries).toEqual([
      { rolloutId: 'r', callIndex: 0, record: makeRecord() },
    ])
  })

  test('refuses an empty path', () => {
    expect(() => new JsonlFileSink('')).toThrow('JsonlFileSink: `path` must be a non-empty string')
  })
})

describe('parseJsonlRecords', () => {
  const line = (entry: TaggedTokenRecord) => `${JSON.stringify(entry)}\n`
  const entry = { rolloutId: 'r', callIndex: 0, record: makeRecord() }

  test('drops and flags a partial last line (the call in flight at a crash)', () => {
    const text = line(entry) + JSON.stringify(entry).slice(0, 40)
    expect(parseJsonlRecords(text)).toEqual({ entries: [entry], cutLines: [], truncatedTail: true })
  })

  test('an empty file has no entries', () => {
    expect(parseJsonlRecords('')).toEqual({ entries: [], cutLines: [], truncatedTail: false })
  })

  test('a complete line that is not JSON is a write cut short: skipped and reported; blank lines are skipped', () => {
    const text = `${line(entry)}{"rolloutId":"r","callIn\n\n${line({ ...entry, callIndex: 1 })}`
    expect(parseJsonlRecords(text)).toEqual({
      entries: [entry, { ...entry, callIndex: 1 }],
      cutLines: [2],
      truncatedTail: false,
    })
  })

  test.each([
    [`${JSON.stringify({ ...entry, rolloutId: 3 })}\n`, 'records.jsonl:2: missing string field rolloutId'],
    [
      `${JSON.stringify({ ...entry, callIndex: -1 })}\n`,
      'records.jsonl:2: callIndex must be a non-negative integer',
    ],
    [
      `${JSON.stringify({ ...entry, record: makeRecord({ tokenIds: [1.5] }) })}\n`,
      'records.jsonl:2: record is invalid: tokenIds[0] is 1.5, not a token id (an integer from 0 to 4294967295)',
    ],
  ])('a bad complete line is an error naming the line: %s', (badLine, message) => {
    expect(() => parseJsonlRecords(line(entry) + badLine, 'records.jsonl')).toThrow(message)
  })
})
