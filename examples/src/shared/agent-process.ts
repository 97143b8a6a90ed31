import { spawn, spawnSync } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

/** The repository root (this file is in `examples/src/shared/`). */
export const REPOSITORY_ROOT = fileURLToPath(new URL('../../../', import.meta.url))

/** The agent command Agent Lightning runs for each rollout, from the repository root (see ts_agent.py). */
export const AGENT_COMMAND = ['pnpm', '--silent', 'agl-agent'] as const

/**
 * What Agent Lightning 1.0's local controller runs per rollout (`_run_local_reconciler_worker` in
 * `agentlightning/controller/local_reconciler.py`), restated: import the `module:Class` given as argument,
 * instantiate it without arguments, call `run()`, await an awaitable result; exit 1 on any exception.
 */
const LOCAL_MODE_WORKER = `
import asyncio, importlib, inspect, sys, traceback
module_name, class_name = sys.argv[1].split(":", 1)
try:
    result = getattr(importlib.import_module(module_name), class_name)().run()
    if inspect.isawaitable(result):
        asyncio.run(result)
except Exception:
    traceback.print_exc()
    sys.exit(1)
`

/** How the agent process is started: through `ts_agent.py` as local mode does, or the agent command itself. */
export type AgentLauncher = 'ts_agent.py' | 'direct'

/** One finished agent process. */
export interface AgentRun {
  /** How it was started. */
  launcher: AgentLauncher
  /** The command line, for printing. */
  command: string[]
  /** The exit code (`null` when a signal ended it). */
  exitCode: number | null
  /** Everything it wrote to stdout and stderr. */
  stdout: string
  stderr: string
}

/** Options of {@link runAgentProcess}. */
export interface AgentProcessOptions {
  /** How to start it. Default: `ts_agent.py` when `python3` can be started, else `direct`. */
  launcher?: AgentLauncher
  /** Called with every line it prints, as it arrives. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void
  /** The whole process group is killed after this many milliseconds (the controller's rollout timeout). */
  timeoutMs?: number
}

/** Whether `python3` can be started here. */
export function hasPython(): boolean {
  return spawnSync('python3', ['--version'], { stdio: 'ignore' }).status === 0
}

/**
 * The task variables of a rollout, as local mode builds them from `config.local.env_map`
 * (`_build_env_from_map` in `local_reconciler.py`): a path `input` or `input.<key>.<index>…` is looked up in the
 * rollout's `input` (any other text is the value itself); strings are passed as they are, other values as
 * JSON with Python's `json.dumps` separators (`, ` and `: `).
 *
 * @throws Error `local.env_map path not found: <path>` for a path the input does not have.
 */
export function environmentFromMap(input: unknown, envMap: Record<string, string>): Record<string, string> {
  const environment: Record<string, string> = {}
  for (const [name, path] of Object.entries(envMap)) {
    const value = resolveInputPath(input, path)
    environment[name] = typeof value === 'string' ? value : pythonJson(value)
  }
  return environment
}

function resolveInputPath(input: unknown, path: string): unknown {
  if (path === 'input') return input
  if (!path.startsWith('input.')) return path
  let value = input
  for (const part of path.split('.').slice(1)) {
    if (Array.isArray(value) && /^\d+$/.test(part) && Number(part) < value.length) value = value[Number(part)]
    else if (typeof value === 'object' && value !== null && !Array.isArray(value) && part in value) {
      value = (value as Record<string, unknown>)[part]
    } else throw new Error(`local.env_map path not found: ${path}`)
  }
  return value
}

function pythonJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).map(
      ([key, field]) => `${JSON.stringify(key)}: ${pythonJson(field)}`,
    )
    return `{${entries.join(', ')}}`
  }
  return JSON.stringify(value)
}

/**
 * Runs the agent for one rollout as Agent Lightning's local controller does: a new process group with the
 * given environment (the controller's own plus the `AGL_*` and task variables), from the repository root.
 * With `ts_agent.py` the process is Python's local-mode worker loading `ts_agent:Agent`, whose `run()` starts
 * the agent command; `direct` starts the agent command itself.
 */
export function runAgentProcess(
  environment: Record<string, string | undefined>,
  options: AgentProcessOptions = {},
): Promise<AgentRun> {
  const launcher = options.launcher ?? (hasPython() ? 'ts_agent.py' : 'direct')
  const command =
    launcher === 'ts_agent.py' ? ['python3', '-c', LOCAL_MODE_WORKER, 'ts_agent:Agent'] : [...AGENT_COMMAND]
  const pythonPath = [
    fileURLToPath(new URL('../../agent-lightning/', import.meta.url)),
    environment.PYTHONPATH,
  ]
  const env =
    launcher === 'ts_agent.py'
      ? {
          ...environment,
          PYTHONPATH: pythonPath.filter((entry) => entry !== undefined && entry !== '').join(':'),
          PYTHONDONTWRITEBYTECODE: '1',
        }
      : environment
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), {
      cwd: REPOSITORY_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
    const output = { stdout: '', stderr: '' }
    for (const stream of ['stdout', 'stderr'] as const) {
      createInterface({ input: child[stream] }).on('line', (line) => {
        output[stream] += `${line}\n`
        options.onLine?.(line, stream)
      })
    }
    const timer = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
      } catch {
        // the group ended between the timer firing and the kill
      }
    }, options.timeoutMs ?? 120_000)
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(new Error(`could not start ${command[0]}: ${error.message}`))
    })
    child.on('close', (exitCode) => {
      clearTimeout(timer)
      resolve({ launcher, command, exitCode, ...output })
    })
  })
}
