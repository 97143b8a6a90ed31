import { spawn } from 'node:child_process'
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { JournalError } from '../errors'
import type { RolloutResult } from '../rollout-types'
import { type JournalHeader, RolloutJournal } from './rollout-journal'

const header: JournalHeader = {
  journal: 'vllm-tito-rollouts-journal',
  version: 1,
  groupSize: 2,
  tasks: { count: 1, fingerprint: 'f'.repeat(64) },
}

function result(rolloutId: string): RolloutResult {
  return {
    task: { id: 'a', question: 'Q?', answer: '1' },
    taskId: 'a',
    taskIndex: 0,
    sampleIndex: Number(rolloutId.split('/')[1]),
    rolloutId,
    rolloutNumber: Number(rolloutId.split('/')[1]),
    status: 'succeeded',
    records: [],
    answer: '1',
    reward: 1,
    failure: null,
    attempts: 1,
    retriedFailures: [],
    promptTokenIds: null,
    modelCalls: { streamed: 0, nonStreamed: 1 },
    startedAt: 1,
    endedAt: 2,
  }
}

let folder: string
let path: string

beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'journal-'))
  path = join(folder, 'out.journal.jsonl')
})
afterEach(() => {
  rmSync(folder, { recursive: true, force: true })
})

function errorOf(work: () => unknown): Error {
  try {
    work()
  } catch (error) {
    expect(JournalError.isInstance(error)).toBe(true)
    return error as Error
  }
  throw new Error('expected a JournalError')
}

describe('RolloutJournal', () => {
  it('writes a header, appends one line per rollout, and gives them back on reopening', () => {
    const first = RolloutJournal.open(path, header)
    expect(first.finished.size).toBe(0)
    first.journal.append(result('a/0'))
    first.journal.append(result('a/1'))
    first.journal.close()
    expect(existsSync(`${path}.lock`)).toBe(false)
    const lines = readFileSync(path, 'utf8').split('\n')
    expect(lines).toHaveLength(4)
    expect(JSON.parse(lines[0]!)).toEqual(header)
    const again = RolloutJournal.open(path, header)
    expect([...again.finished.keys()]).toEqual(['a/0', 'a/1'])
    expect(again.finished.get('a/1')).toEqual(result('a/1'))
    expect(again.repairedTail).toBe(false)
    again.journal.close()
  })

  it('cuts off a half-written last line, so that rollout runs again and is written once', () => {
    const first = RolloutJournal.open(path, header)
    first.journal.append(result('a/0'))
    first.journal.close()
    const complete = readFileSync(path, 'utf8')
    appendFileSync(path, JSON.stringify({ rollout: result('a/1') }).slice(0, 40))
    const reopened = RolloutJournal.open(path, header)
    expect(reopened.repairedTail).toBe(true)
    expect([...reopened.finished.keys()]).toEqual(['a/0'])
    expect(readFileSync(path, 'utf8')).toBe(complete)
    reopened.journal.append(result('a/1'))
    reopened.journal.close()
    const ids = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => JSON.parse(line).rollout.rolloutId)
    expect(ids).toEqual(['a/0', 'a/1'])
  })

  it('starts anew when even the header was cut off', () => {
    writeFileSync(path, '{"journal": "vllm-tito-rol')
    const opened = RolloutJournal.open(path, header)
    opened.journal.close()
    expect(readFileSync(path, 'utf8')).toBe(`${JSON.stringify(header)}\n`)
  })

  it('refuses a corrupt line before the last, naming it', () => {
    writeFileSync(
      path,
      `${JSON.stringify(header)}\n{"rollout": broken\n${JSON.stringify({ rollout: result('a/1') })}\n`,
    )
    expect(errorOf(() => RolloutJournal.open(path, header)).message).toBe(
      `${path}: line 2 is not valid JSON although lines after it are complete; the journal is damaged`,
    )
    expect(existsSync(`${path}.lock`)).toBe(false)
  })

  it('refuses the journal of a run with another group size or other tasks', () => {
    RolloutJournal.open(path, header).journal.close()
    expect(errorOf(() => RolloutJournal.open(path, { ...header, groupSize: 3 })).message).toBe(
      `${path}: the journal is of a run with --group-size 2, not 3; rerun with the same arguments, use another --out, or pass --fresh`,
    )
    expect(
      errorOf(() =>
        RolloutJournal.open(path, { ...header, tasks: { count: 2, fingerprint: 'e'.repeat(64) } }),
      ).message,
    ).toBe(
      `${path}: the journal is of a run over other tasks (1 tasks then, 2 now, or the same count in another order); use another --out, or pass --fresh`,
    )
  })

  it('keeps the first of two lines of one rollout and counts the other', () => {
    const line = `${JSON.stringify({ rollout: result('a/0') })}\n`
    writeFileSync(path, `${JSON.stringify(header)}\n${line}${line}`)
    const opened = RolloutJournal.open(path, header)
    expect([opened.finished.size, opened.duplicatesIgnored]).toEqual([1, 1])
    opened.journal.close()
  })

  it('refuses a journal another live process writes, and takes over the lock of a dead one', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10000)'])
    try {
      writeFileSync(`${path}.lock`, String(child.pid))
      expect(errorOf(() => RolloutJournal.open(path, header)).message).toBe(
        `${path}: another process (pid ${child.pid}) is writing this journal; wait for it or stop it`,
      )
    } finally {
      child.kill('SIGKILL')
      await new Promise((resolve) => child.once('exit', resolve))
    }
    const opened = RolloutJournal.open(path, header)
    expect(readFileSync(`${path}.lock`, 'utf8')).toBe(String(process.pid))
    opened.journal.close()
  })
})
