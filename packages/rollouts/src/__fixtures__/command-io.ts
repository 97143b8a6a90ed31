import { Writable } from 'node:stream'
import type { CommandIo } from '../cli/rollouts-command'

/** A command's process side for in-process tests: captured output, an interrupt the test can trigger. */
export interface TestIo extends CommandIo {
  /** stdout, with everything written to it in `text`. */
  stdout: Writable & { text: string }
  /** stderr, with everything written to it in `text`. */
  stderr: Writable & { text: string; isTTY?: boolean }
  /** Calls the command's SIGINT handler (as a Ctrl-C would). */
  interrupt(): void
  /** Stores the command's SIGTERM handler (`serve` drains on it). */
  onTerminate(handler: () => void): () => void
  /** Calls the command's SIGTERM handler. */
  terminate(): void
}

function capture(): Writable & { text: string } {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      stream.text += chunk.toString('utf8')
      done()
    },
  }) as Writable & { text: string }
  stream.text = ''
  return stream
}

export function testIo(env: NodeJS.ProcessEnv = {}): TestIo {
  let interruptHandler: (() => void) | undefined
  let terminateHandler: (() => void) | undefined
  return {
    stdout: capture(),
    stderr: capture(),
    env,
    onInterrupt(handler) {
      interruptHandler = handler
      return () => {
        interruptHandler = undefined
      }
    },
    interrupt: () => interruptHandler?.(),
    onTerminate(handler) {
      terminateHandler = handler
      return () => {
        terminateHandler = undefined
      }
    },
    terminate: () => terminateHandler?.(),
  }
}
