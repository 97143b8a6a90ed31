import { isPlainObject } from '@vllm-tito/spec'
import {
  anything,
  bool,
  dictOf,
  enumOf,
  INVALID,
  int,
  listOf,
  model,
  nullable,
  str,
  type Validator,
} from './pydantic-validation'

/** A rollout's life-cycle state (`RolloutState`). */
export type RolloutState = 'queuing' | 'running' | 'succeeded' | 'failed'

/** Every state, in the order of the gateway's enum. */
export const ROLLOUT_STATES: readonly RolloutState[] = ['queuing', 'running', 'succeeded', 'failed']

/** The states a rollout may move to from each state (`VALID_TRANSITIONS`); terminal states have none. */
export const VALID_TRANSITIONS: Record<RolloutState, readonly RolloutState[]> = {
  queuing: ['running', 'failed'],
  running: ['succeeded', 'failed'],
  succeeded: [],
  failed: [],
}

/** The attempt id the controller uses for every rollout (`DEFAULT_ATTEMPT_ID`). */
export const DEFAULT_ATTEMPT_ID = '0'

/** `RolloutConfig`: how the controller runs a rollout. */
export interface RolloutConfig extends Record<string, unknown> {
  /** Seconds the controller lets the agent run before killing it (default 3600). */
  timeout_seconds: number
  /** Local mode: the Python agent class (`module:Class`) and the `env_map` of variables to input paths. */
  local: { agent_class: string | null; env_map: Record<string, string> } | null
  /** Kubernetes mode: the Jinja Job template. */
  k8s: { job_template: string | null } | null
}

/** `RolloutLifecycleStatus`. */
export interface RolloutStatus extends Record<string, unknown> {
  /** The life-cycle state. */
  state: RolloutState
  /** The Kubernetes Job running it, when the controller set one. */
  k8s_job_name: string | null
  /** The attempt whose events the queries read (`"0"` when null). */
  last_attempt_id: string | null
  /** Why it failed, when the controller said so. */
  error_message: string | null
  /** 1 at creation, +1 per patch. */
  version: number
  /** Creation time, seconds since the Unix epoch. */
  created_at: number
  /** Time of the last patch, seconds since the Unix epoch. */
  updated_at: number
}

/** A rollout as the gateway stores and returns it (`Rollout`). */
export interface Rollout extends Record<string, unknown> {
  /** The id (a random 32-digit hex string unless the creator chose one). */
  rollout_id: string
  /** The task, as the creator sent it. */
  input: unknown
  /** `true`: the agent runs in train mode; `false`: val mode. */
  is_train: boolean
  /** How the controller runs it. */
  config: RolloutConfig
  /** `batch_idx`, `sample_idx_in_batch` and any other key the creator sent. */
  metadata: Record<string, unknown>
  /** The life-cycle status. */
  status: RolloutStatus
}

/** An event as stored (`Event`). */
export interface StoredEvent extends Record<string, unknown> {
  /** `model_request` (written by the proxy), `reward`, or any type an agent posts. */
  event_type: string
  /** The rollout it belongs to. */
  rollout_id: string
  /** The attempt it was posted under. */
  attempt_id: string
  /** Seconds since the Unix epoch, assigned when stored. */
  timestamp: number
  /** The payload. */
  data: Record<string, unknown>
}

/** A registered model server (`Model`). */
export interface ModelServer extends Record<string, unknown> {
  /** The model name the proxy looks servers up by. */
  model: string
  /** The OpenAI base URL, `/v1` included, e.g. `http://127.0.0.1:8000/v1`. */
  endpoint: string
  /** The training step of the served weights (stored as `model_version` on each call). */
  version: number
}

const rolloutLocalConfig = model('RolloutLocalConfig', {
  agent_class: { validate: nullable(str), default: () => null },
  env_map: { validate: dictOf(str), default: () => ({}) },
})

const rolloutK8sConfig = model('RolloutK8sConfig', {
  job_template: { validate: nullable(str), default: () => null },
})

/** Validates a `RolloutConfig`. */
export const rolloutConfig = model<RolloutConfig>('RolloutConfig', {
  timeout_seconds: { validate: int, default: () => 3600 },
  local: { validate: nullable(rolloutLocalConfig) as Validator<RolloutConfig['local']>, default: () => null },
  k8s: { validate: nullable(rolloutK8sConfig) as Validator<RolloutConfig['k8s']>, default: () => null },
})

/** The default config of a rollout created without one. */
export function defaultRolloutConfig(): RolloutConfig {
  return { timeout_seconds: 3600, local: null, k8s: null }
}

/** Validates `RolloutMetadata` (extra keys allowed and kept). */
export const rolloutMetadata = model(
  'RolloutMetadata',
  {
    batch_idx: { validate: nullable(int), default: () => null },
    sample_idx_in_batch: { validate: nullable(int), default: () => null },
  },
  'allow',
)

/**
 * `metadata: RolloutMetadata | dict[str, Any] | None`: an object or null passes (the route turns a dict into
 * `RolloutMetadata` itself); anything else fails both union members, one issue per member.
 */
const metadataUnion: Validator<unknown> = (value, loc, issues) => {
  if (value === null || isPlainObject(value)) return value
  issues.push(
    {
      type: 'model_type',
      loc: [...loc, 'RolloutMetadata'],
      msg: 'Input should be a valid dictionary or instance of RolloutMetadata',
      input: value,
      ctx: { class_name: 'RolloutMetadata' },
    },
    {
      type: 'dict_type',
      loc: [...loc, 'dict[str,any]'],
      msg: 'Input should be a valid dictionary',
      input: value,
    },
  )
  return INVALID
}

/** One item of `POST /api/rollouts` (`RolloutCreate`). */
export const rolloutCreate = model('RolloutCreate', {
  input: { validate: anything },
  is_train: { validate: bool, default: () => true },
  config: { validate: nullable(rolloutConfig), default: () => null },
  metadata: { validate: metadataUnion, default: () => null },
  rollout_id: { validate: nullable(str), default: () => null },
})

/** `RolloutStatusPatch` (unknown keys refused). */
export const rolloutStatusPatch = model(
  'RolloutStatusPatch',
  {
    state: { validate: nullable(enumOf(ROLLOUT_STATES)), default: () => null },
    k8s_job_name: { validate: nullable(str), default: () => null },
    last_attempt_id: { validate: nullable(str), default: () => null },
    error_message: { validate: nullable(str), default: () => null },
  },
  'forbid',
)

/** The body of `PATCH /api/rollouts/{rollout_id}` (`RolloutPatch`). */
export const rolloutPatch = model('RolloutPatch', {
  status: { validate: nullable(rolloutStatusPatch), default: () => null },
})

/** The body of `POST …/events` (`EventCreate`). */
export const eventCreate = model('EventCreate', {
  event_type: { validate: str },
  data: { validate: dictOf(anything), default: () => ({}) },
})

/** One item of `POST /api/models` (`Model`). */
export const modelServer = model<ModelServer>('Model', {
  model: { validate: str },
  endpoint: { validate: str },
  version: { validate: int, default: () => 0 },
})

/** The body of `POST /proxy/pause` (`PauseRequest`). */
export const pauseRequest = model('PauseRequest', {
  retry_after_seconds: { validate: int, default: () => 5 },
  reason: { validate: nullable(str), default: () => null },
})

/** `list[X]` bodies. */
export const rolloutCreateList = listOf(rolloutCreate)
export const modelServerList = listOf(modelServer)
export const stateList = listOf(enumOf(ROLLOUT_STATES))
