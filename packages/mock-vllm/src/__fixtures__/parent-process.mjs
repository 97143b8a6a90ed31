// A parent process for the CLI tests: starts its arguments as a command with the same stdio, then waits to be
// killed, as npx does with a package's bin.
import { spawn } from 'node:child_process'

const [command, ...args] = process.argv.slice(2)
spawn(command, args, { stdio: 'inherit' })
setInterval(() => {}, 60_000)
