import { readFile } from 'node:fs/promises'
import type { TaggedTokenRecord } from '@vllm-tito/spec'
import { RecorderError } from './recorder-error'
import { findTokenRecordProblem } from './validate-token-record'

/** What {@link readJsonlRecords} read. */
export interface JsonlRecords {
  /** Every complete entry, in file order. */
  entries: TaggedTokenRecord[]
  /**
   * Line numbers (1-based) of complete lines that are not JSON: writes cut short by a crash or a full disk, after
   * which the file was appended to again (the sink then starts a new line). Their calls never finished being
   * written; they are not in {@link entries}.
   */
  cutLines: number[]
  /**
   * `true` when the file ended in a partial line with no newline: the call in flight when the writing
   * process crashed. That line is not in {@link entries}.
   */
  truncatedTail: boolean
}

/**
 * Reads a file written by `JsonlFileSink`, validating each entry. Blank lines are skipped; lines cut short by
 * a crash are skipped and listed in `cutLines`.
 * @throws RecorderError (source `record`) naming the line when a complete JSON line is not a valid entry.
 */
export async function readJsonlRecords(path: string): Promise<JsonlRecords> {
  const text = await readFile(path, 'utf8')
  return parseJsonlRecords(text, path)
}

/** Parses the text of a JSONL file as {@link readJsonlRecords} does; `source` names it in errors. */
export function parseJsonlRecords(text: string, source = 'input'): JsonlRecords {
  const lines = text.split('\n')
  // the piece after the last newline is empty for a complete file; anything else was cut by a crash
  const tail = lines.pop() ?? ''
  const entries: TaggedTokenRecord[] = []
  const cutLines: number[] = []
  lines.forEach((line, index) => {
    if (line.trim() === '') return
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch {
      // the sink writes only whole JSON.stringify lines: one that does not parse was cut short
      cutLines.push(index + 1)
      return
    }
    entries.push(parseEntry(value, index + 1, source))
  })
  return { entries, cutLines, truncatedTail: tail.trim() !== '' }
}

function parseEntry(value: unknown, lineNumber: number, source: string): TaggedTokenRecord {
  const entry = value as Partial<TaggedTokenRecord> | null
  if (typeof entry !== 'object' || entry === null || typeof entry.rolloutId !== 'string') {
    throw new RecorderError(`${source}:${lineNumber}: missing string field rolloutId`, { source: 'record' })
  }
  if (typeof entry.callIndex !== 'number' || !Number.isInteger(entry.callIndex) || entry.callIndex < 0) {
    throw new RecorderError(`${source}:${lineNumber}: callIndex must be a non-negative integer`, {
      source: 'record',
    })
  }
  const problem = findTokenRecordProblem(entry.record)
  if (problem !== undefined) {
    throw new RecorderError(`${source}:${lineNumber}: record is invalid: ${problem}`, { source: 'record' })
  }
  return entry as TaggedTokenRecord
}
