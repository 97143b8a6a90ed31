import { OptionReader } from '@vllm-tito/spec'
import type { UpstreamSettings } from './forward-upstream'
import type { ModelServer, Rollout, StoredEvent } from './gateway-schemas'

/** Options of `startMockAgentLightning`; the names follow the gateway's `server.yaml`. */
export interface MockAgentLightningOptions {
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string
  /** Port; 0 (the default) picks a free one. */
  port?: number
  /** The API key (`key`). Empty (the default) disables authentication, as in the real gateway. */
  key?: string
  /**
   * The model name every proxied request is rewritten to and the registered servers are looked up by
   * (`default_proxy.model_name`). Default `Qwen/Qwen3-8B`, mock-vllm's served model (the gateway's own
   * `server.yaml` default is `Qwen/Qwen2.5-7B-Instruct`).
   */
  modelName?: string
  /** Temperature forced in train mode (`default_proxy.train.temperature`). Default 1. */
  trainTemperature?: number
  /** Temperature forced in val mode (`default_proxy.val.temperature`). Default 0.7. */
  valTemperature?: number
  /** Whether train-mode requests get `logprobs: true` (`default_proxy.include_log_probs`). Default true. */
  includeLogProbs?: boolean
  /** Model servers registered at start, as `POST /api/models` would (`[{ model, endpoint, version? }]`). */
  models?: Array<{ model: string; endpoint: string; version?: number }>
  /** Upstream requests per proxied call at most. Default 6, as the gateway. */
  upstreamMaxAttempts?: number
  /** First upstream retry delay, ms. Default 500, as the gateway. Tests lower it. */
  upstreamRetryBaseDelayMs?: number
  /** Upstream retry delay cap, ms. Default 8000, as the gateway. */
  upstreamRetryCapDelayMs?: number
  /** Time allowed for one upstream request, ms. Default 300000, as the gateway's HTTP client. */
  upstreamTimeoutMs?: number
  /** Random numbers in [0, 1) for the retry jitter. Default `Math.random`. */
  random?: () => number
}

/** One request the stand-in received. */
export interface GatewayRequestLog {
  /** HTTP method. */
  method: string
  /** The raw path with its query string, as sent. */
  url: string
  /** Request headers (lower-case names). */
  headers: Record<string, string | string[] | undefined>
  /** The raw body as text. */
  body: string
}

/**
 * The three variables the controller gives an agent process for one rollout (a type alias, so that it can
 * be passed wherever an environment record like `process.env` is expected).
 */
export type AgentEnvironment = {
  /** `<url>/proxy/rollout/{rid}/attempt/0/mode/{train|val}/openai/v1`. */
  AGL_OPENAI_BASE_URL: string
  /** `<url>/api/rollouts/{rid}/attempt/0/events`. */
  AGL_EVENT_URL: string
  /** The gateway key (empty when authentication is off). */
  AGL_KEY: string
}

/** A running stand-in of the Agent Lightning 1.0 gateway. */
export interface MockAgentLightningServer {
  /** `http://127.0.0.1:<port>` (no trailing slash): the gateway root. */
  url: string
  /** The key it checks (empty: no authentication). */
  key: string
  /** Every request received, in order. */
  requests: GatewayRequestLog[]
  /**
   * The variables the controller would inject for `rolloutId` (mode from the rollout's `is_train`, attempt
   * `"0"`), exactly as `local_reconciler.py` builds them. Throws for an unknown rollout.
   */
  agentEnvironment(rolloutId: string): AgentEnvironment
  /** A snapshot of the stored rollouts, in creation order. */
  rollouts(): Rollout[]
  /** A snapshot of one rollout's events, every attempt, in order. */
  events(rolloutId: string): StoredEvent[]
  /** A snapshot of the registered model servers. */
  models(): ModelServer[]
  /** Stops listening and destroys open connections; idempotent. */
  close(): Promise<void>
}

/** The checked settings of a running stand-in. */
export interface GatewaySettings {
  host: string
  port: number
  key: string
  modelName: string
  trainTemperature: number
  valTemperature: number
  includeLogProbs: boolean
  models: ModelServer[]
  upstream: UpstreamSettings
}

const KNOWN = [
  'host',
  'port',
  'key',
  'modelName',
  'trainTemperature',
  'valTemperature',
  'includeLogProbs',
  'models',
  'upstreamMaxAttempts',
  'upstreamRetryBaseDelayMs',
  'upstreamRetryCapDelayMs',
  'upstreamTimeoutMs',
  'random',
] as const

/** Checks the options; every problem is an `InvalidOptionError` naming the option. */
export function readGatewaySettings(options: MockAgentLightningOptions | undefined): GatewaySettings {
  const read = new OptionReader('startMockAgentLightning', options).rejectUnknown(KNOWN)
  const models = read.custom('models', 'an array of { model, endpoint, version? }', Array.isArray) ?? []
  const servers = models.map((entry, index): ModelServer => {
    const item = new OptionReader('startMockAgentLightning', entry).rejectUnknown([
      'model',
      'endpoint',
      'version',
    ])
    try {
      return {
        model: item.string('model', { required: true, nonEmpty: true }),
        endpoint: item.string('endpoint', { required: true, nonEmpty: true }),
        version: item.integer('version') ?? 0,
      }
    } catch (error) {
      return read.fail('models', `models[${index}]: ${(error as Error).message.replace(/^[^:]+: /, '')}`)
    }
  })
  return {
    host: read.string('host', { nonEmpty: true }) ?? '127.0.0.1',
    port: read.integer('port', { maximum: 65_535 }) ?? 0,
    key: read.string('key') ?? '',
    modelName: read.string('modelName', { nonEmpty: true }) ?? 'Qwen/Qwen3-8B',
    trainTemperature: read.finiteNumber('trainTemperature') ?? 1,
    valTemperature: read.finiteNumber('valTemperature') ?? 0.7,
    includeLogProbs: read.boolean('includeLogProbs') ?? true,
    models: servers,
    upstream: {
      maxAttempts: read.integer('upstreamMaxAttempts', { minimum: 1, maximum: 100 }) ?? 6,
      baseDelayMs: read.integer('upstreamRetryBaseDelayMs') ?? 500,
      capDelayMs: read.integer('upstreamRetryCapDelayMs') ?? 8_000,
      timeoutMs: read.integer('upstreamTimeoutMs', { minimum: 1 }) ?? 300_000,
      random: read.function<() => number, { required?: true }>('random') ?? Math.random,
    },
  }
}
