import {
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { isPlainObject } from '@vllm-tito/spec'
import { JournalError } from '../errors'
import type { RolloutResult } from '../rollout-types'

/** The first line of a journal: what run it belongs to. */
export interface JournalHeader {
  /** Always `vllm-tito-rollouts-journal`. */
  journal: 'vllm-tito-rollouts-journal'
  /** The journal layout's version, 1. */
  version: 1
  /** Rollouts per task. */
  groupSize: number
  /** Tasks in the run and the sha256 of their ids in order (`tasksFingerprint`). */
  tasks: { count: number; fingerprint: string }
}

/** What an opened journal already holds. */
export interface OpenedJournal {
  /** The journal, open for appending. */
  journal: RolloutJournal
  /** Finished rollouts by rollout id (as a string), in journal order. */
  finished: Map<string, RolloutResult>
  /** `true` when a half-written last line (a process killed mid-write) was cut off. */
  repairedTail: boolean
  /** Lines that repeated an earlier rollout id (kept: the first). */
  duplicatesIgnored: number
}

/**
 * The append-only log of finished rollouts behind `vllm-tito rollouts`: one JSON line per rollout, each written
 * with a single `write` the moment the rollout finishes, so a `kill -9` loses at most the line being written.
 * Reopening it cuts such a half-written last line off (that rollout runs again), refuses a journal of another
 * run, and gives the finished rollouts, which the rerun skips. A lock file next to it keeps two processes from
 * appending to one journal.
 */
export class RolloutJournal {
  /** The journal file. */
  readonly path: string
  readonly #descriptor: number
  readonly #lockPath: string
  #closed = false

  private constructor(path: string, descriptor: number, lockPath: string) {
    this.path = path
    this.#descriptor = descriptor
    this.#lockPath = lockPath
  }

  /**
   * Opens (or creates) the journal of the run `header` describes; with `fresh`, starts it over — only once the
   * lock is held, so a run another process is writing keeps its journal.
   *
   * @throws JournalError when another live process holds the lock, a line before the last is corrupt, or the
   *   journal belongs to a run with another group size or other tasks.
   */
  static open(path: string, header: JournalHeader, options: { fresh?: boolean } = {}): OpenedJournal {
    const lockPath = `${path}.lock`
    takeLock(path, lockPath)
    try {
      const existing = !options.fresh && existsSync(path) ? readFileSync(path, 'utf8') : null
      // no complete line yet (not even the header, when a process was killed while creating it): start anew
      if (existing === null || !existing.includes('\n')) {
        writeFileSync(path, `${JSON.stringify(header)}\n`)
        const descriptor = openSync(path, 'a')
        fsyncSync(descriptor)
        return {
          journal: new RolloutJournal(path, descriptor, lockPath),
          finished: new Map(),
          repairedTail: false,
          duplicatesIgnored: 0,
        }
      }
      const parsed = parseJournal(path, existing, header)
      const descriptor = openSync(path, 'r+')
      if (parsed.validBytes < Buffer.byteLength(existing)) ftruncateSync(descriptor, parsed.validBytes)
      closeSync(descriptor)
      return {
        journal: new RolloutJournal(path, openSync(path, 'a'), lockPath),
        finished: parsed.finished,
        repairedTail: parsed.validBytes < Buffer.byteLength(existing),
        duplicatesIgnored: parsed.duplicates,
      }
    } catch (error) {
      rmSync(lockPath, { force: true })
      throw error
    }
  }

  /** Appends one finished rollout as one line, with one write. */
  append(result: RolloutResult): void {
    if (this.#closed) throw new JournalError(this.path, 'the journal is closed')
    const bytes = Buffer.from(`${JSON.stringify({ rollout: result })}\n`, 'utf8')
    let written = 0
    while (written < bytes.length) written += writeSync(this.#descriptor, bytes, written)
  }

  /** Flushes the journal to disk, closes it and releases the lock. Idempotent. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    fsyncSync(this.#descriptor)
    closeSync(this.#descriptor)
    rmSync(this.#lockPath, { force: true })
  }
}

function takeLock(path: string, lockPath: string): void {
  try {
    writeFileSync(lockPath, String(process.pid), { flag: 'wx' })
    return
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  }
  const owner = Number(readFileSync(lockPath, 'utf8').trim())
  if (Number.isSafeInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
    throw new JournalError(
      path,
      `another process (pid ${owner}) is writing this journal; wait for it or stop it`,
    )
  }
  // the lock of a process that is gone (e.g. killed with -9): take it over
  writeFileSync(lockPath, String(process.pid))
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

interface ParsedJournal {
  finished: Map<string, RolloutResult>
  /** Bytes up to the end of the last complete line. */
  validBytes: number
  duplicates: number
}

function parseJournal(path: string, text: string, expected: JournalHeader): ParsedJournal {
  const lines = text.split('\n')
  // a journal whose last byte is not a newline ends in a line cut mid-write: it is dropped, not parsed
  const complete = lines.slice(0, -1)
  const cutTail = lines.at(-1) ?? ''
  checkHeader(path, complete[0]!, expected)
  const finished = new Map<string, RolloutResult>()
  let duplicates = 0
  for (let index = 1; index < complete.length; index += 1) {
    const result = parseLine(path, index + 1, complete[index]!)
    const key = String(result.rolloutId)
    if (finished.has(key)) duplicates += 1
    else finished.set(key, result)
  }
  return { finished, validBytes: Buffer.byteLength(text) - Buffer.byteLength(cutTail), duplicates }
}

function checkHeader(path: string, line: string, expected: JournalHeader): void {
  let header: unknown
  try {
    header = JSON.parse(line)
  } catch {
    throw new JournalError(
      path,
      'line 1 is not a journal header; use another --out, or pass --fresh to start over',
    )
  }
  if (!isPlainObject(header) || header.journal !== expected.journal || header.version !== expected.version) {
    throw new JournalError(path, 'line 1 is not a vllm-tito rollouts journal header (version 1)')
  }
  if (header.groupSize !== expected.groupSize) {
    throw new JournalError(
      path,
      `the journal is of a run with --group-size ${String(header.groupSize)}, not ${expected.groupSize}; rerun with the same arguments, use another --out, or pass --fresh`,
    )
  }
  const tasks = header.tasks as JournalHeader['tasks'] | undefined
  if (tasks?.fingerprint !== expected.tasks.fingerprint) {
    throw new JournalError(
      path,
      `the journal is of a run over other tasks (${String(tasks?.count)} tasks then, ${expected.tasks.count} now, or the same count in another order); use another --out, or pass --fresh`,
    )
  }
}

function parseLine(path: string, line: number, text: string): RolloutResult {
  let entry: unknown
  try {
    entry = JSON.parse(text)
  } catch {
    throw new JournalError(
      path,
      `line ${line} is not valid JSON although lines after it are complete; the journal is damaged`,
    )
  }
  const result = isPlainObject(entry) ? entry.rollout : undefined
  if (!isPlainObject(result) || !('rolloutId' in result) || !Array.isArray(result.records)) {
    throw new JournalError(path, `line ${line} is not a finished rollout`)
  }
  return result as unknown as RolloutResult
}
