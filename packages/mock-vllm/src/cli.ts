#!/usr/bin/env node
import { InvalidOptionError } from '@vllm-tito/spec'
import { cliUsage, parseCliArguments } from './cli-arguments'
import type { MockVllmServer } from './mock-vllm-options'
import { startMockVllm } from './start-mock-vllm'

/** `mock-vllm`: starts the server, prints its URL, and shuts down cleanly on SIGINT/SIGTERM. */
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
  const shutdown = () => {
    process.off('SIGINT', shutdown)
    process.off('SIGTERM', shutdown)
    server.close().then(() => process.stdout.write('mock-vllm stopped\n'))
  }
  process.on('SIGINT', shutdown)
  process.on('SIGTERM', shutdown)
}

/** Prints the problem (InvalidOptionError messages already start with `mock-vllm:`) and the usage; exit 2. */
function usageError(error: unknown): void {
  const message = (error as Error).message
  const text = message.startsWith('mock-vllm') ? message : `mock-vllm: ${message}`
  process.stderr.write(`${text}\n\n${cliUsage}\n`)
  process.exitCode = 2
}

main().catch((error: unknown) => {
  process.stderr.write(`mock-vllm: ${(error as Error)?.message ?? String(error)}\n`)
  process.exitCode = 1
})
