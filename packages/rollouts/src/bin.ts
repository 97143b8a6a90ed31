#!/usr/bin/env node
import { InvalidOptionError } from '@vllm-tito/spec'
import { type CommandIo, rolloutsCommand } from './cli/rollouts-command'
import { serveCommand } from './cli/serve-command'
import { JournalError, TaskFileError } from './errors'

const USAGE = `usage: vllm-tito <command> [options]

  vllm-tito rollouts --tasks <file.jsonl> --out <file> --format <verl|skyrl|slime|agent-lightning> [options]
      run every task's group of rollouts, resumably, and write the trainer's rows (the default command)
  vllm-tito serve [options]
      the rollout service verl, SkyRL and slime call (docs/rollout-service.md)

\`vllm-tito <command> --help\` lists a command's options.
`

function signalHandler(signal: 'SIGINT' | 'SIGTERM') {
  return (handler: () => void) => {
    let seen = false
    const listener = () => {
      // the first signal stops gracefully; a second one does not wait
      if (seen) process.exit(130)
      seen = true
      handler()
    }
    process.on(signal, listener)
    return () => process.off(signal, listener)
  }
}

async function main(argv: string[]): Promise<number> {
  const io: CommandIo & { onTerminate(handler: () => void): () => void } = {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    onInterrupt: signalHandler('SIGINT'),
    onTerminate: signalHandler('SIGTERM'),
  }
  const [command, ...rest] = argv
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE)
    return command === undefined ? 2 : 0
  }
  if (command === 'serve') return serveCommand(rest, io)
  if (command === 'rollouts') return rolloutsCommand(rest, io)
  // `pnpm rollouts --tasks …`: flags without a command mean `rollouts`
  if (command.startsWith('--')) return rolloutsCommand(argv, io)
  process.stderr.write(`vllm-tito: unknown command ${JSON.stringify(command)}\n\n${USAGE}`)
  return 2
}

// `vllm-tito rollouts … | head` closes stdout early: stop quietly instead of crashing on EPIPE
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0)
  throw error
})

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    const usageError =
      InvalidOptionError.isInstance(error) ||
      TaskFileError.isInstance(error) ||
      JournalError.isInstance(error)
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
    process.stderr.write(`vllm-tito: ${message}\n`)
    if (InvalidOptionError.isInstance(error) && error.where.startsWith('vllm-tito ')) {
      process.stderr.write(`run \`${error.where} --help\` for the options\n`)
    }
    process.exitCode = usageError ? 2 : 1
  },
)
