import {
  closeSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readSync,
  writeSync,
} from 'node:fs'
import { dirname } from 'node:path'
import {
  InvalidOptionError,
  OptionReader,
  type TaggedTokenRecord,
  type TokenRecordSink,
} from '@vllm-tito/spec'
import { describeError, RecorderError } from './recorder-error'

/** Options of {@link JsonlFileSink}. */
export interface JsonlFileSinkOptions {
  /**
   * Also `fsync` after every line, so a line survives a power loss or kernel crash, not only a crash of the
   * process. Default `false` (a written line already survives the process dying).
   */
  fsync?: boolean
}

/**
 * A {@link TokenRecordSink} that appends one JSON line per record (`{"rolloutId","callIndex","record"}`) to a
 * file, creating it and its folder when needed.
 *
 * Each line is handed to the operating system with a synchronous append before `write` returns, so when the
 * process crashes at most the call in flight is lost, and several recorders (or processes) can share one
 * file: every line is a single append. A synchronous write costs microseconds, far less than the model call
 * it records (see the package README for measured throughput).
 */
export class JsonlFileSink implements TokenRecordSink {
  /** The file the lines go to. */
  readonly path: string
  readonly #fsync: boolean
  #descriptor: number | undefined
  #closed = false
  // the file ends in a line cut short (a crash of an earlier writer, or a failed append that could not be
  // taken back): the next line must start with a newline, or it would be glued to the cut one and lost too
  #tailIsPartial = false
  #linesWritten = 0
  #bytesWritten = 0

  /** @throws InvalidOptionError (from `@vllm-tito/spec`) for an empty `path` or a bad option. */
  constructor(path: string, options: JsonlFileSinkOptions = {}) {
    const where = 'new JsonlFileSink'
    if (typeof path !== 'string' || path === '') {
      throw new InvalidOptionError(where, 'path', '`path` must be a non-empty string')
    }
    this.path = path
    this.#fsync = new OptionReader(where, options).rejectUnknown(['fsync']).boolean('fsync') ?? false
  }

  /** Lines written by this sink. */
  get linesWritten(): number {
    return this.#linesWritten
  }

  /** Bytes written by this sink (UTF-8, newlines included). */
  get bytesWritten(): number {
    return this.#bytesWritten
  }

  /**
   * Appends one line; when it returns, the line is in the file. When the append fails part-way (a full disk),
   * the part already written is taken back, so the file still ends with the last complete line and a later
   * write (once there is space again) starts a line of its own.
   * @throws RecorderError (source `sink`) after {@link close}, when the entry cannot be serialised, or when the
   * file cannot be opened or written.
   */
  write(entry: TaggedTokenRecord): void {
    if (this.#closed) {
      throw new RecorderError(`JsonlFileSink: write after close (${this.path})`, { source: 'sink' })
    }
    let json: string
    try {
      json = JSON.stringify(entry)
    } catch (error) {
      throw new RecorderError(`JsonlFileSink: cannot serialise the entry: ${describeError(error)}`, {
        source: 'sink',
        cause: error,
      })
    }
    let descriptor: number
    try {
      descriptor = this.#open()
    } catch (error) {
      throw this.#appendError(error)
    }
    const bytes = Buffer.from(`${this.#tailIsPartial ? '\n' : ''}${json}\n`, 'utf8')
    let offset = 0
    try {
      // a single append normally takes the whole line; loop for the rare short write
      while (offset < bytes.length) offset += writeSync(descriptor, bytes, offset, bytes.length - offset)
      this.#tailIsPartial = false
      if (this.#fsync) fsyncSync(descriptor)
    } catch (error) {
      if (offset > 0 && offset < bytes.length) this.#takeBack(descriptor, bytes.subarray(0, offset))
      throw this.#appendError(error)
    }
    this.#linesWritten += 1
    this.#bytesWritten += bytes.length
  }

  /** Lines are already in the file after `write`; this also forces them to the disk (`fsync`). */
  async flush(): Promise<void> {
    if (this.#descriptor === undefined) return
    try {
      fsyncSync(this.#descriptor)
    } catch (error) {
      throw new RecorderError(`JsonlFileSink: cannot flush ${this.path}: ${describeError(error)}`, {
        source: 'sink',
        cause: error,
      })
    }
  }

  /** Flushes and closes the file; later writes throw. Closing twice is harmless. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#descriptor === undefined) return
    const descriptor = this.#descriptor
    this.#descriptor = undefined
    try {
      fsyncSync(descriptor)
    } catch (error) {
      throw new RecorderError(`JsonlFileSink: cannot flush ${this.path}: ${describeError(error)}`, {
        source: 'sink',
        cause: error,
      })
    } finally {
      closeSync(descriptor)
    }
  }

  #open(): number {
    if (this.#descriptor === undefined) {
      mkdirSync(dirname(this.path), { recursive: true })
      // `a+`, not `a`: appends the same way, and lets the sink read the file's last byte and its own tail
      // (a file it may write but not read is appended to blind)
      let descriptor: number
      try {
        descriptor = openSync(this.path, 'a+')
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EACCES') throw error
        descriptor = openSync(this.path, 'a')
        this.#descriptor = descriptor
        return descriptor
      }
      this.#descriptor = descriptor
      const size = fstatSync(descriptor).size
      this.#tailIsPartial = size > 0 && readLastBytes(descriptor, size, 1)[0] !== NEWLINE
    }
    return this.#descriptor
  }

  /**
   * Removes the part of a line a failed append left at the end of the file. Only when the file really ends
   * with exactly those bytes: another process sharing the file may have appended after them, and its lines
   * must not be cut. When they cannot be taken back, the next line starts with a newline instead.
   */
  #takeBack(descriptor: number, written: Uint8Array): void {
    try {
      const size = fstatSync(descriptor).size
      if (
        size >= written.length &&
        Buffer.from(written).equals(readLastBytes(descriptor, size, written.length))
      ) {
        ftruncateSync(descriptor, size - written.length)
        return
      }
    } catch {
      // fall through: the cut line stays, and the next line is kept apart from it
    }
    this.#tailIsPartial = true
  }

  #appendError(error: unknown): RecorderError {
    return new RecorderError(`JsonlFileSink: cannot append to ${this.path}: ${describeError(error)}`, {
      source: 'sink',
      cause: error,
    })
  }
}

const NEWLINE = 0x0a

function readLastBytes(descriptor: number, size: number, count: number): Buffer {
  const buffer = Buffer.alloc(count)
  let read = 0
  while (read < count) {
    const got = readSync(descriptor, buffer, read, count - read, size - count + read)
    if (got === 0) break
    read += got
  }
  return buffer.subarray(0, read)
}
