import { OptionReader } from '@vllm-tito/spec'
import { type RetryPolicy, readRetryPolicy } from '../retry-policy'
import type { FirstRequestFunction, RewardFunction, RolloutFunction } from '../rollout-types'
import { type RoutingOptions, readRoutingOptions } from '../routing-headers'
import { MAX_TIMEOUT_MS } from '../run-options'

/** Options of {@link startRolloutService}. */
export interface RolloutServiceOptions {
  /** Runs one rollout attempt (`agentRollout(createAgent)` or your own function). */
  rollout: RolloutFunction
  /** Scores each rollout. Default: the reward the rollout function returned, else `null`. */
  reward?: RewardFunction
  /**
   * The first request of a rollout, for the prompt ids of one that fails before its first model call (see
   * `runRollouts`); without it such a rollout has no row and is listed in the answer's `left_out`. Default: none.
   */
  firstRequest?: FirstRequestFunction
  /** The model server for requests without `base_url` (e.g. the embedded mock). Default: none (required per request). */
  baseUrl?: string
  /** The model for requests without `model`. Default: none (required per request). */
  modelId?: string
  /** The model server's API key. Default `'EMPTY'`. */
  apiKey?: string
  /** Interface to listen on. Default `127.0.0.1` (`0.0.0.0` in a container). */
  host?: string
  /** Port. Default 0: a free one (see `url`). */
  port?: number
  /** Rollouts running at once, across all requests. Default 64. */
  concurrency?: number
  /** Rollouts admitted at once (running or waiting for a slot), across all requests; more is a 429. Default 4 × concurrency. */
  maxPending?: number
  /** The `Retry-After` of a 429 or a 503 while draining, seconds. Default 1. */
  retryAfterSeconds?: number
  /** Time limit of one rollout attempt, ms, unless the request sets `timeout_seconds`. Default 600,000. */
  timeoutMs?: number
  /** Retries of retryable failures. Default 3 attempts. */
  retry?: Partial<RetryPolicy>
  /** Sticky routing: the rollout id header (default `X-Session-ID`), vLLM's data-parallel rank. */
  routing?: Partial<RoutingOptions>
  /** Streaming model calls unless the request says otherwise. Default `false`. */
  stream?: boolean
  /** Request fields for every model call, under the request's `sampling_params`. Default `{ logprobs: true }`. */
  samplingParams?: Record<string, unknown>
  /** The largest request body, bytes. Default 16 MiB. */
  maxBodyBytes?: number
  /** Receives one line per request (method, path, status, rollouts, time). Default: none. */
  log?: (line: string) => void
}

/** The checked options. */
export interface ServiceSettings {
  /** The rollout function. */
  rollout: RolloutFunction
  /** The reward function, if any. */
  reward: RewardFunction | undefined
  /** The first-request function, if any. */
  firstRequest: FirstRequestFunction | undefined
  /** The model server for requests without `base_url`. */
  baseUrl: string | undefined
  /** The model for requests without `model`. */
  modelId: string | undefined
  /** The model server's API key. */
  apiKey: string
  /** The interface to listen on. */
  host: string
  /** The port (0: a free one). */
  port: number
  /** Rollouts running at once, across requests. */
  concurrency: number
  /** Rollouts admitted at once, across requests. */
  maxPending: number
  /** The `Retry-After` of a 429 or a draining 503, seconds. */
  retryAfterSeconds: number
  /** Time limit of one attempt, ms (a request may set its own). */
  timeoutMs: number
  /** The retry policy given (checked at start). */
  retry: Partial<RetryPolicy>
  /** The sticky-routing options given (checked at start). */
  routing: Partial<RoutingOptions>
  /** Streaming model calls unless a request says otherwise. */
  stream: boolean
  /** Request fields under every request's `sampling_params`. */
  samplingParams: Record<string, unknown>
  /** The largest request body, bytes. */
  maxBodyBytes: number
  /** Receives one line per request. */
  log: (line: string) => void
}

const WHERE = 'startRolloutService'

/** @throws InvalidOptionError naming the bad option. */
export function readServiceOptions(options: RolloutServiceOptions): ServiceSettings {
  const read = new OptionReader(WHERE, options).rejectUnknown([
    'rollout',
    'reward',
    'firstRequest',
    'baseUrl',
    'modelId',
    'apiKey',
    'host',
    'port',
    'concurrency',
    'maxPending',
    'retryAfterSeconds',
    'timeoutMs',
    'retry',
    'routing',
    'stream',
    'samplingParams',
    'maxBodyBytes',
    'log',
  ])
  const concurrency = read.integer('concurrency', { minimum: 1, maximum: 1_000_000 }) ?? 64
  const retry = read.raw('retry') as Partial<RetryPolicy> | undefined
  const routing = read.raw('routing') as Partial<RoutingOptions> | undefined
  // checked here so that a bad policy fails at start, not at the first request
  readRetryPolicy(WHERE, retry)
  readRoutingOptions(WHERE, routing)
  return {
    rollout: read.function<RolloutFunction, { required: true }>('rollout', { required: true }),
    reward: read.function<RewardFunction, { required?: true }>('reward'),
    firstRequest: read.function<FirstRequestFunction, { required?: true }>('firstRequest'),
    baseUrl: read.string('baseUrl', { nonEmpty: true }),
    modelId: read.string('modelId', { nonEmpty: true }),
    apiKey: read.string('apiKey', { nonEmpty: true }) ?? 'EMPTY',
    host: read.string('host', { nonEmpty: true }) ?? '127.0.0.1',
    port: read.integer('port', { maximum: 65_535 }) ?? 0,
    concurrency,
    maxPending: read.integer('maxPending', { minimum: 1 }) ?? 4 * concurrency,
    retryAfterSeconds: read.integer('retryAfterSeconds', { minimum: 1, maximum: 3_600 }) ?? 1,
    timeoutMs: read.integer('timeoutMs', { minimum: 1, maximum: MAX_TIMEOUT_MS }) ?? 600_000,
    retry: retry ?? {},
    routing: routing ?? {},
    stream: read.boolean('stream') ?? false,
    samplingParams: read.object('samplingParams') ?? {},
    maxBodyBytes: read.integer('maxBodyBytes', { minimum: 1 }) ?? 16 * 1024 * 1024,
    log: read.function<(line: string) => void, { required?: true }>('log') ?? (() => {}),
  }
}
