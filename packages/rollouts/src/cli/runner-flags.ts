import type { RetryPolicy } from '../retry-policy'
import type { RoutingOptions } from '../routing-headers'
import { MAX_TIMEOUT_MS } from '../run-options'
import type { FlagReader, FlagSpec } from './flag-reader'

/** The flags `rollouts` and `serve` share: the agent, the model server and how rollouts run. */
export const RUNNER_FLAGS: FlagSpec = {
  agent: { type: 'string' },
  'base-url': { type: 'string' },
  model: { type: 'string' },
  concurrency: { type: 'string' },
  timeout: { type: 'string' },
  attempts: { type: 'string' },
  stream: { type: 'boolean' },
  'sampling-params': { type: 'string' },
  'routing-header': { type: 'string' },
  'data-parallel-size': { type: 'string' },
  help: { type: 'boolean' },
}

/** The shared flags, read and checked. */
export interface RunnerFlags {
  /** `--agent`, if given. */
  agentPath: string | undefined
  /** `--base-url`, if given. */
  baseUrl: string | undefined
  /** `--model`, if given. */
  modelId: string | undefined
  /** `--concurrency`, or the command's default. */
  concurrency: number
  /** `--timeout` in ms (default 600 s). */
  timeoutMs: number
  /** `--attempts` as a retry policy. */
  retry: Partial<RetryPolicy>
  /** `--stream`. */
  stream: boolean
  /** `--sampling-params`. */
  samplingParams: Record<string, unknown>
  /** `--routing-header` and `--data-parallel-size`. */
  routing: Partial<RoutingOptions>
}

/** Reads the shared flags; `defaultConcurrency` differs between the CLI run and the service. */
export function readRunnerFlags(flags: FlagReader, defaultConcurrency: number): RunnerFlags {
  const header = flags.string('routing-header')
  const dataParallelSize = flags.integer('data-parallel-size', 1, 65_536)
  const attempts = flags.integer('attempts', 1, 100)
  return {
    agentPath: flags.string('agent'),
    baseUrl: flags.string('base-url'),
    modelId: flags.string('model'),
    concurrency: flags.integer('concurrency', 1, 1_000_000) ?? defaultConcurrency,
    // up, so that a sub-millisecond limit is 1 ms rather than an invalid 0
    timeoutMs: Math.ceil((flags.positiveNumber('timeout', MAX_TIMEOUT_MS / 1000) ?? 600) * 1000),
    retry: attempts === undefined ? {} : { attempts },
    stream: flags.flag('stream'),
    samplingParams: flags.jsonObject('sampling-params') ?? {},
    routing: {
      ...(header === undefined ? {} : { header: header === 'none' ? null : header }),
      ...(dataParallelSize === undefined ? {} : { dataParallelSize }),
    },
  }
}

/** The usage lines of the shared flags. */
export const RUNNER_FLAGS_USAGE = `  --agent <module>            your agent: a module exporting createAgent(context) or rollout(context),
                              and optionally reward(task, outcome) and firstRequest(context) (the prompt
                              of a rollout that fails before its first call; default: the calculator agent)
  --base-url <url>            the vLLM server (default: the embedded mock-vllm, started in this process)
  --model <name>              the model to request (default: the server's first model)
  --concurrency <n>           rollouts running at once
  --timeout <seconds>         time limit of one rollout attempt (default 600)
  --attempts <n>              attempts per rollout for retryable failures (default 3)
  --stream                    streaming model calls (default: non-streaming)
  --sampling-params <json>    request fields for every model call, e.g. '{"temperature":1,"max_tokens":1024}'
  --routing-header <name>     the sticky-routing header carrying the rollout id (default X-Session-ID;
                              X-SMG-Routing-Key for SGLang's gateway; none to send none)
  --data-parallel-size <n>    also send X-data-parallel-rank = sha256(rollout id) mod n (vLLM's DP server)
  VLLM_API_KEY                the model server's API key (environment variable; default EMPTY)`
