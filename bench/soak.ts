// `pnpm soak [--duration <s>] [--rollouts <n>]`: runs bench/soak-worker.ts in a child process and checks that,
// once it has printed its table, it exits by itself — a leaked socket or timer would keep it alive.
import { spawn } from 'node:child_process'
import { join } from 'node:path'

const EXIT_GRACE_MS = 10_000
const worker = spawn(
  process.execPath,
  [
    '--conditions=@vllm-tito/source',
    '--import',
    'tsx',
    join(import.meta.dirname, 'soak-worker.ts'),
    ...process.argv.slice(2),
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
)
let leakTimer: NodeJS.Timeout | undefined
worker.stdout.on('data', (chunk: Buffer) => {
  process.stdout.write(chunk)
  if (chunk.toString('utf8').includes('soak worker finished') && leakTimer === undefined) {
    leakTimer = setTimeout(() => {
      console.error(
        `soak: the worker did not exit within ${EXIT_GRACE_MS / 1000} s of finishing: a socket or timer leaked`,
      )
      worker.kill('SIGKILL')
      process.exitCode = 1
    }, EXIT_GRACE_MS)
  }
})
worker.on('exit', (code, signal) => {
  if (leakTimer) clearTimeout(leakTimer)
  if (signal === null) console.log(`soak: worker exited by itself with code ${code}`)
  if (process.exitCode === undefined || process.exitCode === 0) process.exitCode = code ?? 1
})
