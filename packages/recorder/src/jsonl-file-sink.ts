import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'
import type { TaggedTokenRecord, TokenRecordSink } from '@vllm-tito/spec'
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
  #linesWritten = 0
  #bytesWritten = 0

  constructor(path: string, options: JsonlFileSinkOptions = {}) {
    if (typeof path !== 'string' || path === '') {
      throw new RecorderError('JsonlFileSink: `path` must be a non-empty string', { source: 'options' })
    }
    this.path = path
    this.#fsync = options.fsync ?? false
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
   * Appends one line; when it returns, the line is in the file.
   * @throws RecorderError (source `sink`) after {@link close}, or when the file cannot be opened or written.
   */
  write(entry: TaggedTokenRecord): void {
    if (this.#closed) {
      throw new RecorderError(`JsonlFileSink: write after close (${this.path})`, { source: 'sink' })
    }
    const bytes = Buffer.from(`${JSON.stringify(entry)}\n`, 'utf8')
    try {
      const descriptor = this.#open()
      let offset = 0
      // a single append normally takes the whole line; loop for the rare short write
      while (offset < bytes.length) offset += writeSync(descriptor, bytes, offset, bytes.length - offset)
      if (this.#fsync) fsyncSync(descriptor)
    } catch (error) {
      throw new RecorderError(`JsonlFileSink: cannot append to ${this.path}: ${describeError(error)}`, {
        source: 'sink',
        cause: error,
      })
    }
    this.#linesWritten += 1
    this.#bytesWritten += bytes.length
  }

  /** Lines are already in the file after `write`; this also forces them to the disk (`fsync`). */
  async flush(): Promise<void> {
    if (this.#descriptor !== undefined) fsyncSync(this.#descriptor)
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
    } finally {
      closeSync(descriptor)
    }
  }

  #open(): number {
    if (this.#descriptor === undefined) {
      mkdirSync(dirname(this.path), { recursive: true })
      this.#descriptor = openSync(this.path, 'a')
    }
    return this.#descriptor
  }
}
