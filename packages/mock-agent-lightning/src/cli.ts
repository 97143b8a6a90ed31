#!/usr/bin/env node
import { cliUsage, parseCliArguments } from './cli-arguments'
import { startMockAgentLightning } from './start-mock-agent-lightning'

/** `mock-agent-lightning`: starts the gateway stand-in, prints its URL, stops cleanly on SIGINT/SIGTERM. */
async function main(): Promise<void> {
  let options: ReturnType<typeof parseCliArguments>
  try {
    options = parseCliArguments(process.argv.slice(2))
  } catch (error) {
    process.stderr.write(`mock-agent-lightning: ${(error as Error).message}\n\n${cliUsage}\n`)
    process.exitCode = 2
    return
  }
  if (options === 'help') {
    process.stdout.write(`${cliUsage}\n`)
    return
  }
  const server = await startMockAgentLightning(options)
  process.stdout.write(`mock-agent-lightning listening on ${server.url}\n`)
  const shutdown = () => {
    process.off('SIGINT', shutdown)
    process.off('SIGTERM', shutdown)
    server.close().then(() => process.stdout.write('mock-agent-lightning stopped\n'))
  }
  process.on('SIGINT', shutdown)
  process.on('SIGTERM', shutdown)
}

main().catch((error: unknown) => {
  process.stderr.write(`mock-agent-lightning: ${(error as Error)?.message ?? String(error)}\n`)
  process.exitCode = 1
})
