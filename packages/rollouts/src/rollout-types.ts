import type { ChatRequest, TokenRecord } from '@vllm-tito/spec'
import type { RolloutModelClient } from './rollout-model-client'

/** One task (prompt) to roll out; every task gets `groupSize` rollouts (a GRPO group). */
export interface RolloutTask {
  /** The task's id: a non-empty string or an integer >= 0, unique among the run's tasks. */
  id: string | number
  /** What the agent is asked (the user message of the first turn). */
  question: string
  /** The expected answer, for the reward function; any JSON value, `undefined` when the task has none. */
  answer?: unknown
  /** Any other fields of the task, passed through untouched to the rollout and reward functions. */
  [field: string]: unknown
}

/** What a rollout function gets: the task, the rollout's ids and everything it needs to call the model. */
export interface RolloutContext {
  /** The task being rolled out. */
  task: RolloutTask
  /** Position of the task in the run's task list, from 0. */
  taskIndex: number
  /** Position of this rollout within its task's group, from 0. */
  sampleIndex: number
  /**
   * The rollout's id: deterministic (the same task and sample index give the same id in a resumed run), unique
   * in the run, and sent on every model call as the sticky-routing header. Default `${task.id}/${sampleIndex}`.
   */
  rolloutId: string | number
  /** `taskIndex * groupSize + sampleIndex`: a unique integer id (slime numbers its samples). */
  rolloutNumber: number
  /** Which attempt this is, from 0 (a retry gets 1, 2, …). */
  attempt: number
  /** Aborted when the attempt times out or the run is cancelled; pass it to every call that can take it. */
  signal: AbortSignal
  /**
   * The rollout's own client of the model server: every call carries the sticky-routing headers and the
   * attempt's signal, and its records are kept for the result even when the rollout function throws.
   */
  client: RolloutModelClient
  /** The model server's root URL (no `/v1`), e.g. `http://127.0.0.1:8000`. */
  baseUrl: string
  /** The model name to request. */
  modelId: string
  /** `true`: call the model with streaming requests; `false`: non-streaming ones (the runner's `stream`). */
  stream: boolean
  /** Request fields for every model call (temperature, top_p, max_tokens, logprobs, …), in vLLM's wire names. */
  samplingParams: Readonly<Record<string, unknown>>
}

/** What a rollout function returns. */
export interface RolloutOutput {
  /** The token records of the rollout's model calls, in call order (for a Strands agent: the recorder's history). */
  records: readonly TokenRecord[]
  /** The rollout's final answer (text), for the reward function; `null` or absent when there is none. */
  answer?: string | null
  /** A reward the rollout computed itself; the run's reward function, when given, decides instead. */
  reward?: number | null
  /**
   * The task's prompt ids, for a rollout that produced no usable record; taken from the model server's
   * `/tokenize` otherwise (see the runner's docs).
   */
  promptTokenIds?: readonly number[] | null
}

/** A function that runs one rollout attempt. It must respect `context.signal` and may throw. */
export type RolloutFunction = (context: RolloutContext) => Promise<RolloutOutput>

/**
 * The first chat request of a rollout, built without calling the model: the runner sends it to `/tokenize` for
 * the prompt ids of a rollout that failed before its first model call, so its trainer row holds the exact
 * prompt and an empty response. Called with the context of the rollout's last attempt. `agentFirstRequest`
 * builds one for an agent factory. It may be async.
 */
export type FirstRequestFunction = (context: RolloutContext) => ChatRequest | Promise<ChatRequest>

/** What kind of failure ended a rollout. */
export type RolloutFailureKind =
  | 'api'
  | 'timeout'
  | 'token-ids'
  | 'bad-task'
  | 'tool'
  | 'agent'
  | 'reward'
  | 'no-records'

/** Why a rollout failed, after its last attempt. */
export interface RolloutFailureInfo {
  /** What failed: see {@link RolloutFailureKind}. */
  kind: RolloutFailureKind
  /** The trainer rows' failure source: `api` (a model call), `tool`, or `agent` (the agent's or reward's code). */
  source: 'api' | 'tool' | 'agent'
  /** The error's message (names the class, e.g. `APICallError: …`). */
  message: string
  /** Whether another attempt could have succeeded (the retries were used up) or not (never retried). */
  retryable: boolean
  /** The HTTP status of a failed model call, when there was one. */
  statusCode: number | null
}

/** The outcome of a rollout the reward function scores. */
export interface RolloutOutcome {
  /** The rollout's answer, or `null`. */
  answer: string | null
  /** The rollout's token records. */
  records: readonly TokenRecord[]
  /** Set when the rollout failed; the reward function decides what a failed rollout is worth. */
  failure: RolloutFailureInfo | null
  /** The reward the rollout function returned, if any. */
  reward: number | null
  /** The rollout's ids. */
  rolloutId: string | number
  /** The rollout's position in its group. */
  sampleIndex: number
  /**
   * Aborted when the run is cancelled; pass it to what the reward function waits for (an LLM judge's HTTP call).
   * The runner does not wait for a reward function once it aborts: the rollout then counts as cancelled.
   */
  signal: AbortSignal
}

/**
 * Scores a rollout: a finite number, or `null` to let the trainer score it (verl, slime). Called for failed
 * rollouts too (with `outcome.failure` set), because GRPO groups need every sample's reward. It may be async;
 * a run cancelled while it runs does not wait for it (see `outcome.signal`).
 */
export type RewardFunction = (
  task: RolloutTask,
  outcome: RolloutOutcome,
) => number | null | Promise<number | null>

/** A finished rollout, as the runner yields it. */
export interface RolloutResult {
  /** The task. */
  task: RolloutTask
  /** The task's id. */
  taskId: string | number
  /** The task's position in the run, from 0. */
  taskIndex: number
  /** The rollout's position in its group, from 0. */
  sampleIndex: number
  /** The rollout's id (see {@link RolloutContext.rolloutId}). */
  rolloutId: string | number
  /** `taskIndex * groupSize + sampleIndex`. */
  rolloutNumber: number
  /** `succeeded`, or `failed` (see {@link failure}). */
  status: 'succeeded' | 'failed'
  /** The records of the last attempt, in call order (also of a failed one: nothing captured is dropped). */
  records: TokenRecord[]
  /** The rollout's answer, or `null`. */
  answer: string | null
  /** The reward, or `null`. */
  reward: number | null
  /** Why the rollout failed, or `null`. */
  failure: RolloutFailureInfo | null
  /** Attempts made, from 1. */
  attempts: number
  /** The failures of the earlier attempts that were retried, oldest first. */
  retriedFailures: RolloutFailureInfo[]
  /** The task's prompt ids for a rollout without a usable record (from the rollout or `/tokenize`), or `null`. */
  promptTokenIds: number[] | null
  /**
   * Why `promptTokenIds` is `null` although the rollout has no verified record (the run had no `firstRequest`
   * for a rollout that made no model call, or `/tokenize` failed); absent otherwise. Its trainer row cannot be
   * built: the export leaves the rollout out and says so.
   */
  promptTokenIdsProblem?: string
  /** Model calls of the last attempt by request mode: streamed, and non-streaming (`create`). */
  modelCalls: { streamed: number; nonStreamed: number }
  /** When the first attempt started, milliseconds since the Unix epoch. */
  startedAt: number
  /** When the rollout finished, milliseconds since the Unix epoch. */
  endedAt: number
}
