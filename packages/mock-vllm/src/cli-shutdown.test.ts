// The mock-vllm command as npx runs it: a child of a parent process (npx → `sh -c mock-vllm` → node). Killing
// the parent must stop the server, as must SIGHUP; every process a test starts is killed by its group.
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'

const packageDir = fileURLToPath(new URL('..', import.meta.url))
const cliCommand = [
  process.execPath,
  '--conditions=@vllm-tito/source',
  '--import',
  'tsx',
  fileURLToPath(new URL('./cli.ts', import.meta.url)),
  '--port',
  '0',
]
const parentScript = fileURLToPath(new URL('./__fixtures__/parent-process.mjs', import.meta.url))

interface Started {
  /** The process the test spawned (its own process group). */
  root: ChildProcess
  url: string
  /** Everything the command printed so far (stdout and stderr). */
  output: () => string
  /** Resolves when every process holding the output pipe (the CLI included) has exited. */
  ended: Promise<void>
}

const groups: number[] = []
afterEach(() => {
  // whatever a test left running: the whole group it started, by its id
  for (const group of groups.splice(0)) {
    try {
      process.kill(-group, 'SIGKILL')
    } catch {
      // already gone
    }
  }
})

/** Spawns `command` in a new process group and waits for the CLI's "listening" line. */
async function start(command: string[]): Promise<Started> {
  const root = spawn(command[0]!, command.slice(1), {
    cwd: packageDir,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  groups.push(root.pid!)
  let output = ''
  const ended = new Promise<void>((resolve) => {
    let open = 2
    const close = () => {
      open -= 1
      if (open === 0) resolve()
    }
    root.stdout!.on('close', close)
    root.stderr!.on('close', close)
  })
  for (const stream of [root.stdout!, root.stderr!]) {
    stream.setEncoding('utf8')
    stream.on('data', (piece: string) => {
      output += piece
    })
  }
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /mock-vllm listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(output)
      if (match) {
        clearInterval(timer)
        resolve(match[1]!)
      }
    }, 50)
    ended.then(() => {
      clearInterval(timer)
      reject(new Error(`mock-vllm ended before listening: ${output}`))
    })
  })
  return { root, url, output: () => output, ended }
}

/** `promise`, or a rejection naming `what` after `ms` milliseconds. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** Whether anything still accepts connections at `url`. */
async function serving(url: string): Promise<boolean> {
  return fetch(`${url}/health`).then(
    (response) => response.ok,
    () => false,
  )
}

describe('the mock-vllm command stops with the process that started it', () => {
  it('stops when its parent is killed with SIGKILL behind a shell, as npx runs it: the port closes', async () => {
    // `; exit $?` keeps the shell between parent and CLI (a lone command may be exec'd), as npm's is
    const shell = ['sh', '-c', '"$0" "$@"; exit $?', ...cliCommand]
    const started = await start([process.execPath, parentScript, ...shell])
    expect(await serving(started.url)).toBe(true)
    started.root.kill('SIGKILL')
    // the CLI checks its ancestors every 500 ms, then closes the server
    await within(started.ended, 10_000, 'mock-vllm did not stop after its parent died')
    expect(await serving(started.url)).toBe(false)
    expect(started.output()).toContain('mock-vllm: the parent process exited; stopping\n')
    expect(started.output()).toContain('mock-vllm stopped\n')
  }, 60_000)

  it('stops on SIGHUP (a closed terminal) with exit code 0', async () => {
    const started = await start(cliCommand)
    const exited = new Promise<number | null>((resolve) => started.root.on('exit', resolve))
    started.root.kill('SIGHUP')
    expect(await within(exited, 10_000, 'mock-vllm did not exit on SIGHUP')).toBe(0)
    expect(await serving(started.url)).toBe(false)
    expect(started.output()).toContain('mock-vllm stopped\n')
  }, 60_000)

  it('keeps serving after its parent is killed with --no-parent-watch', async () => {
    const started = await start([process.execPath, parentScript, ...cliCommand, '--no-parent-watch'])
    started.root.kill('SIGKILL')
    // two ancestry checks' worth
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    expect(await serving(started.url)).toBe(true)
    expect(started.output()).not.toContain('parent process exited')
  }, 60_000)
})
