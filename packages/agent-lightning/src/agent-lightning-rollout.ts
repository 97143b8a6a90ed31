import { describeValue, isPlainObject, OptionReader } from '@vllm-tito/spec'
import { InvalidEventError, RewardAlreadyEmittedError } from './agent-lightning-errors'
import { findJsonProblem } from './find-json-problem'
import { type AgentLightningEvent, type EventPostSettings, postEvent } from './post-event'
import type { AgentLightningEnvironment, AgentLightningMode } from './read-agent-lightning-env'

/** Optional explanation stored with the reward event (Agent Lightning's `RewardData` fields). */
export interface RewardDetails {
  /** A human-readable explanation. The trainer's triplet view drops it; the raw event keeps it. */
  message?: string
  /** Who decided the reward, e.g. `agent` (Agent Lightning uses `fallback` for rewards it fills in). */
  source?: string
  /** A machine-readable explanation, e.g. `answer-matched`. */
  reason?: string
}

/** Where a rollout's reward stands. */
export type RewardState = 'none' | 'posting' | 'posted' | 'failed'

/** Event types the agent must not post with `emitEvent` (see there). */
const RESERVED_EVENT_TYPES: Record<string, string> = {
  reward: 'use emitReward (one reward per rollout, checked before it is sent)',
  model_request:
    'the gateway records every model call itself; a hand-made one would become a training sample',
}

/**
 * One Agent Lightning rollout as the agent process sees it: where to send model calls, and how to post the
 * reward and other events. Created by `agentLightningFromEnv()`.
 */
export class AgentLightningRollout {
  /** The gateway's OpenAI-compatible base URL for this rollout (`AGL_OPENAI_BASE_URL`, normalised). */
  readonly baseUrl: string
  /** Where events are posted (`AGL_EVENT_URL`, normalised). */
  readonly eventUrl: string
  /** The rollout id from the proxy URL, percent-decoded. */
  readonly rolloutId: string
  /** The attempt id from the proxy URL, percent-decoded. */
  readonly attemptId: string
  /** `train` or `val`, from the proxy URL. */
  readonly mode: AgentLightningMode
  readonly #key: string
  readonly #settings: EventPostSettings
  #rewardState: RewardState = 'none'
  #rewardValue: number | undefined

  /** Prefer `agentLightningFromEnv()`, which checks the environment and the options first. */
  constructor(environment: AgentLightningEnvironment, settings: EventPostSettings) {
    this.baseUrl = environment.baseUrl
    this.eventUrl = environment.eventUrl
    this.rolloutId = environment.rolloutId
    this.attemptId = environment.attemptId
    this.mode = environment.mode
    this.#key = environment.key
    this.#settings = settings
  }

  /**
   * The key to give `VLLMModel` / `VLLMClient` as `apiKey`: `AGL_KEY`, or `'EMPTY'` when `AGL_KEY` is empty
   * (the gateway then runs without authentication, and the OpenAI SDK refuses an empty key). A getter, so
   * that logging the rollout object does not print it.
   */
  get apiKey(): string {
    return this.#key === '' ? 'EMPTY' : this.#key
  }

  /** Whether no reward was posted yet (`none`), one is being posted, was posted, or failed to post. */
  get rewardState(): RewardState {
    return this.#rewardState
  }

  /**
   * Posts the rollout's reward: `{"event_type":"reward","data":{"value":value, …details}}`. Only a finite
   * number is accepted (the trainer drops booleans and cannot train on NaN); it is checked before anything is
   * sent. A rollout gets one reward: a second call while the first is being posted, or after it was posted,
   * throws without sending. After a post that failed (`EventPostError`) a new call may try again.
   *
   * @throws InvalidEventError for a value that is not a finite number (nothing sent).
   * @throws InvalidOptionError for unknown or non-string `details` (nothing sent).
   * @throws RewardAlreadyEmittedError for a second reward (nothing sent).
   * @throws EventPostError when the gateway refuses it (4xx) or cannot be reached after every retry.
   */
  async emitReward(value: number, details?: RewardDetails): Promise<AgentLightningEvent | null> {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new InvalidEventError(
        'value',
        `emitReward: the reward must be a finite number, got ${describeValue(value)}${typeof value === 'boolean' ? ' (Agent Lightning drops boolean rewards: send 1 or 0)' : ''}`,
      )
    }
    const read = new OptionReader('emitReward', details).rejectUnknown(['message', 'source', 'reason'])
    const data: Record<string, unknown> = { value }
    for (const name of ['message', 'source', 'reason'] as const) {
      const text = read.string(name)
      if (text !== undefined) data[name] = text
    }
    if (this.#rewardState === 'posting' || this.#rewardState === 'posted') {
      throw new RewardAlreadyEmittedError(
        this.rolloutId,
        this.#rewardValue!,
        value,
        this.#rewardState === 'posting',
      )
    }
    this.#rewardState = 'posting'
    this.#rewardValue = value
    try {
      const stored = await postEvent(this.eventUrl, this.#key, 'reward', data, this.#settings)
      this.#rewardState = 'posted'
      return stored
    } catch (error) {
      this.#rewardState = 'failed'
      throw error
    }
  }

  /**
   * Posts any other event, `{"event_type": type, "data": data}`, with the same retries as the reward. The
   * gateway stores it as it is; the trainer's triplet view passes it through unchanged. `reward` and
   * `model_request` are refused: use `emitReward`, and the gateway records model calls itself.
   *
   * @throws InvalidEventError for an empty or reserved type, or data that is not plain JSON (nothing sent).
   * @throws EventPostError when the gateway refuses it (4xx) or cannot be reached after every retry.
   */
  async emitEvent(type: string, data: Record<string, unknown> = {}): Promise<AgentLightningEvent | null> {
    if (typeof type !== 'string' || type === '') {
      throw new InvalidEventError(
        'type',
        `emitEvent: the event type must be a non-empty string, got ${describeValue(type)}`,
      )
    }
    const reserved = RESERVED_EVENT_TYPES[type]
    if (reserved !== undefined) {
      throw new InvalidEventError('type', `emitEvent: "${type}" events are not posted this way: ${reserved}`)
    }
    if (!isPlainObject(data)) {
      throw new InvalidEventError(
        'data',
        `emitEvent: data must be a plain object, got ${describeValue(data)}`,
      )
    }
    const problem = findJsonProblem(data, 'data')
    if (problem !== undefined) throw new InvalidEventError('data', `emitEvent: ${problem}`)
    return postEvent(this.eventUrl, this.#key, type, data, this.#settings)
  }

  /** What `JSON.stringify` and loggers see: everything but the key. */
  toJSON(): Record<string, unknown> {
    return {
      baseUrl: this.baseUrl,
      eventUrl: this.eventUrl,
      rolloutId: this.rolloutId,
      attemptId: this.attemptId,
      mode: this.mode,
      rewardState: this.#rewardState,
    }
  }
}
