#!/usr/bin/env node
import { InvalidOptionError } from '@vllm-tito/spec'
import { cliUsage, parseCliArguments, watchesParent } from './cli-arguments'
import { onStopRequest, readAncestry, type StopReason } from './cli-shutdown'
import type { MockVllmServer } from './mock-vllm-options'
import { startMockVllm } from './start-mock-vllm'

// read before the tokenizer loads: a parent that dies during start-up is noticed too
const ancestry = readAncestry()

/**
 * `mock-vllm`: starts the server, prints its URL, and shuts down cleanly on SIGINT, SIGTERM or SIGHUP, or when
 * the process that started it exits (see `onStopRequest`; `--no-parent-watch` turns that last one off).
 */
async function main(): Promise<void> {
  let options: ReturnType<typeof parseCliArguments>
  try {
    options = parseCliArguments(process.argv.slice(2))
  } catch (error) {
    usageError(error)
    return
  }
  if (options === 'help') {
    process.stdout.write(`${cliUsage}\n`)
    return
  }
  let server: MockVllmServer
  try {
    server = await startMockVllm(options)
  } catch (error) {
    // a flag value out of range (`--port 99999`) is a usage error too
    if (!InvalidOptionError.isInstance(error)) throw error
    usageError(error)
    return
  }
  process.stdout.write(`mock-vllm listening on ${server.baseUrl}\n`)
  const stop = (reason: StopReason) => {
    if (reason === 'parent-exited') process.stderr.write('mock-vllm: the parent process exited; stopping\n')
    server.close().then(() => process.stdout.write('mock-vllm stopped\n'))
  }
  onStopRequest(stop, watchesParent(process.argv) ? ancestry : undefined)
}

/** Prints the problem (InvalidOptionError messages already start with `mock-vllm:`) and the usage; exit 2. */
function usageError(error: unknown): void {
  const message = (error as Error).message
  const text = message.startsWith('mock-vllm') ? message : `mock-vllm: ${message}`
  process.stderr.write(`${text}\n\n${cliUsage}\n`)
  process.exitCode = 2
}

// the terminal or pipe may be gone when the parent died: a failed write must not turn a clean stop into a crash
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {})

main().catch((error: unknown) => {
  process.stderr.write(`mock-vllm: ${(error as Error)?.message ?? String(error)}\n`)
  process.exitCode = 1
})
