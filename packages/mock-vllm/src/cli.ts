#!/usr/bin/env node
import { cliUsage, parseCliArguments } from './cli-arguments'
import { startMockVllm } from './start-mock-vllm'

/** `mock-vllm`: starts the server, prints its URL, and shuts down cleanly on SIGINT/SIGTERM. */
async function main(): Promise<void> {
  let options: ReturnType<typeof parseCliArguments>
  try {
    options = parseCliArguments(process.argv.slice(2))
  } catch (error) {
    process.stderr.write(`mock-vllm: ${(error as Error).message}\n\n${cliUsage}\n`)
    process.exitCode = 2
    return
  }
  if (options === 'help') {
    process.stdout.write(`${cliUsage}\n`)
    return
  }
  const server = await startMockVllm(options)
  process.stdout.write(`mock-vllm listening on ${server.baseUrl}\n`)
  const shutdown = () => {
    process.off('SIGINT', shutdown)
    process.off('SIGTERM', shutdown)
    server.close().then(() => process.stdout.write('mock-vllm stopped\n'))
  }
  process.on('SIGINT', shutdown)
  process.on('SIGTERM', shutdown)
}

main().catch((error: unknown) => {
  process.stderr.write(`mock-vllm: ${(error as Error)?.message ?? String(error)}\n`)
  process.exitCode = 1
})
