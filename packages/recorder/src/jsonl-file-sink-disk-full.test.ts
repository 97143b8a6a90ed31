import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makeRecord } from '@vllm-tito/spec/testing'
import { afterAll, afterEach, expect, test, vi } from 'vitest'
import { JsonlFileSink } from './jsonl-file-sink'
import { readJsonlRecords } from './read-jsonl-records'
import { RecorderError } from './recorder-error'

// The disk is the boundary this file is not about: a full disk is simulated by letting the real writeSync
// put the first `diskSpaceLeft` bytes into the file and then failing with ENOSPC, as write(2) does.
const disk = vi.hoisted(() => ({ spaceLeft: Number.POSITIVE_INFINITY }))
vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>()
  const writeSync = (descriptor: number, buffer: Uint8Array, offset: number, length: number): number => {
    if (disk.spaceLeft <= 0) {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
    }
    const allowed = Math.min(length, disk.spaceLeft)
    const written = actual.writeSync(descriptor, buffer, offset, allowed)
    disk.spaceLeft -= written
    return written
  }
  return { ...actual, default: { ...actual, writeSync }, writeSync }
})

const folder = mkdtempSync(join(tmpdir(), 'recorder-disk-full-'))
afterEach(() => {
  disk.spaceLeft = Number.POSITIVE_INFINITY
})
afterAll(() => {
  rmSync(folder, { recursive: true, force: true })
})

test('a disk that fills up in the middle of a line: typed error, earlier lines intact, later lines whole', async () => {
  const path = join(folder, 'full.jsonl')
  const sink = new JsonlFileSink(path)
  const first = { rolloutId: 'r', callIndex: 0, record: makeRecord({ responseId: 'chatcmpl-0' }) }
  const second = { rolloutId: 'r', callIndex: 1, record: makeRecord({ responseId: 'chatcmpl-1' }) }
  const third = { rolloutId: 'r', callIndex: 2, record: makeRecord({ responseId: 'chatcmpl-2' }) }
  sink.write(first)
  const firstLine = `${JSON.stringify(first)}\n`

  disk.spaceLeft = 40 // the second line only partly fits
  let failure: unknown
  try {
    sink.write(second)
  } catch (error) {
    failure = error
  }
  expect(RecorderError.isInstance(failure)).toBe(true)
  expect((failure as RecorderError).source).toBe('sink')
  expect((failure as RecorderError).message).toBe(
    `JsonlFileSink: cannot append to ${path}: ENOSPC: no space left on device, write`,
  )
  // the half-written line was taken back: the file holds exactly the complete lines
  expect(readFileSync(path, 'utf8')).toBe(firstLine)
  expect(sink.linesWritten).toBe(1)
  expect(sink.bytesWritten).toBe(Buffer.byteLength(firstLine))

  disk.spaceLeft = Number.POSITIVE_INFINITY // space freed: the sink goes on
  sink.write(third)
  await sink.close()
  const { entries, truncatedTail } = await readJsonlRecords(path)
  expect(truncatedTail).toBe(false)
  expect(entries).toEqual([first, third])
})

test('a disk already full: typed error and nothing written', async () => {
  const path = join(folder, 'already-full.jsonl')
  const sink = new JsonlFileSink(path)
  const entry = { rolloutId: 'r', callIndex: 0, record: makeRecord() }
  sink.write(entry)
  disk.spaceLeft = 0
  expect(() => sink.write({ ...entry, callIndex: 1 })).toThrow(
    `JsonlFileSink: cannot append to ${path}: ENOSPC: no space left on device, write`,
  )
  expect(readFileSync(path, 'utf8')).toBe(`${JSON.stringify(entry)}\n`)
  await sink.close()
})
