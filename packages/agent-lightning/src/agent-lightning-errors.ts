import { APICallError, hasErrorMarker, VLLMTitoError } from '@vllm-tito/spec'

const environmentSymbol = Symbol.for('vllm-tito.error.agent-lightning-environment')

/** One problem with one of the `AGL_*` environment variables. */
export interface EnvironmentProblem {
  /** The variable's name, e.g. `AGL_OPENAI_BASE_URL`. */
  variable: string
  /** What is wrong, in a sentence that never contains the value of `AGL_KEY`. */
  problem: string
}

/**
 * The `AGL_*` variables Agent Lightning's controller injects are missing, empty or malformed. Every problem
 * found is listed at once (in {@link problems} and in the message), so one run shows everything to fix.
 */
export class AgentLightningEnvironmentError extends VLLMTitoError {
  readonly [environmentSymbol] = true
  override readonly name: string = 'AgentLightningEnvironmentError'
  /** Every problem found, in the order the variables are read. */
  readonly problems: readonly EnvironmentProblem[]

  constructor(problems: readonly EnvironmentProblem[]) {
    const lines = problems.map((entry) => `- ${entry.variable}: ${entry.problem}`)
    super(
      `agentLightningFromEnv: the Agent Lightning environment is not usable (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`,
    )
    this.problems = problems
  }

  static override isInstance(error: unknown): error is AgentLightningEnvironmentError {
    return hasErrorMarker(error, environmentSymbol)
  }
}

const invalidEventSymbol = Symbol.for('vllm-tito.error.agent-lightning-invalid-event')

/**
 * A reward or event the caller asked to send is not one Agent Lightning can use (a reward that is not a
 * finite number, an empty event type, data that is not plain JSON). Thrown before anything is sent.
 */
export class InvalidEventError extends VLLMTitoError {
  readonly [invalidEventSymbol] = true
  override readonly name: string = 'InvalidEventError'
  /** What was refused: `value` (the reward), `type` (the event type) or `data` (the event payload). */
  readonly field: 'value' | 'type' | 'data'

  constructor(field: 'value' | 'type' | 'data', message: string) {
    super(message)
    this.field = field
  }

  static override isInstance(error: unknown): error is InvalidEventError {
    return hasErrorMarker(error, invalidEventSymbol)
  }
}

const alreadyEmittedSymbol = Symbol.for('vllm-tito.error.agent-lightning-reward-already-emitted')

/**
 * `emitReward` was called a second time for the same rollout, while the first reward was still being posted
 * or after it was posted. Nothing was sent: a rollout has one reward (the trainer reads only the last one).
 */
export class RewardAlreadyEmittedError extends VLLMTitoError {
  readonly [alreadyEmittedSymbol] = true
  override readonly name: string = 'RewardAlreadyEmittedError'
  /** The rollout the reward belongs to. */
  readonly rolloutId: string
  /** The value of the first call. */
  readonly firstValue: number
  /** The value of the refused call. */
  readonly refusedValue: number

  constructor(rolloutId: string, firstValue: number, refusedValue: number, firstInFlight: boolean) {
    const state = firstInFlight ? 'is still being posted' : 'was already posted'
    super(
      `emitReward: rollout ${rolloutId} already has a reward (${firstValue}, which ${state}); ${refusedValue} was not sent — post one reward per rollout`,
    )
    this.rolloutId = rolloutId
    this.firstValue = firstValue
    this.refusedValue = refusedValue
  }

  static override isInstance(error: unknown): error is RewardAlreadyEmittedError {
    return hasErrorMarker(error, alreadyEmittedSymbol)
  }
}

const postSymbol = Symbol.for('vllm-tito.error.agent-lightning-event-post')

/** Fields of an {@link EventPostError}. */
export interface EventPostErrorOptions {
  /** The sentence explaining the failure (names the URL, never the key). */
  message: string
  /** The event URL the post went to (`AGL_EVENT_URL`). */
  url: string
  /** The event type that was being posted, e.g. `reward`. */
  eventType: string
  /** How many requests were sent, 1 or more. */
  attempts: number
  /** HTTP status of the last answer, or `undefined` when no answer arrived (connection error, timeout). */
  statusCode?: number
  /** Body of the last answer as text, when there was one. */
  responseBody?: string
  /** The underlying error of the last attempt (a fetch or timeout error), when there was one. */
  cause?: unknown
}

/**
 * An event (the reward or any other) could not be posted to the gateway: it answered 4xx (not retried), or
 * 5xx / no answer on every attempt. The message names the URL and the status; it never contains the key.
 */
export class EventPostError extends APICallError {
  readonly [postSymbol] = true
  override readonly name: string = 'EventPostError'
  /** The event URL (`AGL_EVENT_URL`). */
  readonly url: string
  /** The event type that was being posted. */
  readonly eventType: string
  /** How many requests were sent. */
  readonly attempts: number

  constructor(options: EventPostErrorOptions) {
    const statusCode = options.statusCode
    super({
      message: options.message,
      ...(statusCode === undefined ? {} : { statusCode }),
      isRetryable: statusCode === undefined || statusCode >= 500,
      ...(options.responseBody === undefined ? {} : { responseBody: options.responseBody }),
      path: new URL(options.url).pathname,
      cause: options.cause,
    })
    this.url = options.url
    this.eventType = options.eventType
    this.attempts = options.attempts
  }

  static override isInstance(error: unknown): error is EventPostError {
    return hasErrorMarker(error, postSymbol)
  }
}
