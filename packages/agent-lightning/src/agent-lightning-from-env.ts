import { describeValue, InvalidOptionError, isPlainObject, OptionReader } from '@vllm-tito/spec'
import { AgentLightningRollout } from './agent-lightning-rollout'
import type { EventPostSettings, EventRetry } from './post-event'
import { readAgentLightningEnv } from './read-agent-lightning-env'

/** Options of {@link agentLightningFromEnv}. */
export interface AgentLightningOptions {
  /** Requests sent at most per event, the first included, from 1 to 20. Default 5. */
  maxAttempts?: number
  /** Delay before the first retry in milliseconds; doubles per retry, ±25 % jitter. Default 250. */
  initialBackoffMs?: number
  /** Cap of the retry delay in milliseconds (before jitter). Default 4000. */
  maxBackoffMs?: number
  /** Time allowed for one request and its answer, in milliseconds. Default 10000. */
  timeoutMs?: number
  /** The fetch implementation. Default: the global `fetch`. */
  fetch?: typeof fetch
  /** Uniform random numbers in [0, 1) for the jitter. Default `Math.random`. */
  random?: () => number
  /** Called before every retry (for logging). */
  onRetry?: (retry: EventRetry) => void
}

const KNOWN_OPTIONS = [
  'maxAttempts',
  'initialBackoffMs',
  'maxBackoffMs',
  'timeoutMs',
  'fetch',
  'random',
  'onRetry',
] as const

/**
 * Reads the rollout Agent Lightning 1.0's controller hands to an agent process: `AGL_OPENAI_BASE_URL` (the
 * gateway's per-rollout OpenAI-compatible base URL), `AGL_EVENT_URL` and `AGL_KEY`. Returns the base URL and
 * key to give `VLLMModel` (with `stream: false`: the gateway refuses streaming), the rollout id, attempt id
 * and mode parsed from the proxy URL, and `emitReward` / `emitEvent`.
 *
 * @example
 * ```ts
 * const rollout = agentLightningFromEnv()
 * const model = new VLLMModel({ baseUrl: rollout.baseUrl, apiKey: rollout.apiKey, modelId: 'policy', stream: false })
 * // … run the agent …
 * await rollout.emitReward(answerIsRight ? 1 : 0, { source: 'agent' })
 * ```
 *
 * @throws AgentLightningEnvironmentError naming every missing, empty or malformed variable.
 * @throws InvalidOptionError for a bad option.
 */
export function agentLightningFromEnv(
  env: Record<string, string | undefined> = process.env,
  options?: AgentLightningOptions,
): AgentLightningRollout {
  const settings = readOptions(options)
  if (!isPlainObject(env)) {
    throw new InvalidOptionError(
      'agentLightningFromEnv',
      'env',
      `env must be an object of environment variables (like process.env), got ${describeValue(env)}`,
    )
  }
  return new AgentLightningRollout(readAgentLightningEnv(env), settings)
}

function readOptions(options: AgentLightningOptions | undefined): EventPostSettings {
  const read = new OptionReader('agentLightningFromEnv', options).rejectUnknown(KNOWN_OPTIONS)
  const maxAttempts = read.integer('maxAttempts', { minimum: 1, maximum: 20 }) ?? 5
  const initialBackoffMs = read.integer('initialBackoffMs', { minimum: 0, maximum: 60_000 }) ?? 250
  const maxBackoffMs = read.integer('maxBackoffMs', { minimum: 0, maximum: 600_000 }) ?? 4_000
  if (maxBackoffMs < initialBackoffMs) {
    read.fail(
      'maxBackoffMs',
      `option \`maxBackoffMs\` (${maxBackoffMs}) must be at least \`initialBackoffMs\` (${initialBackoffMs})`,
    )
  }
  const timeoutMs = read.integer('timeoutMs', { minimum: 1, maximum: 3_600_000 }) ?? 10_000
  const fetchImplementation = read.function<typeof fetch, { required?: true }>('fetch') ?? globalThis.fetch
  const random = read.function<() => number, { required?: true }>('random') ?? Math.random
  const onRetry = read.function<(retry: EventRetry) => void, { required?: true }>('onRetry')
  return {
    fetch: fetchImplementation,
    maxAttempts,
    initialBackoffMs,
    maxBackoffMs,
    timeoutMs,
    random,
    onRetry,
  }
}
