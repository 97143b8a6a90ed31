import { describeValue, InvalidOptionError, isPlainObject, OptionReader } from '@vllm-tito/spec'
import { ConcurrencyLimiter } from './concurrency-limiter'
import { type RetryPolicy, readRetryPolicy } from './retry-policy'
import type { FirstRequestFunction, RewardFunction, RolloutFunction, RolloutTask } from './rollout-types'
import { type RoutingOptions, readRoutingOptions } from './routing-headers'

/** The ids of one planned rollout, as the id, skip and header functions see them. */
export interface RolloutIds {
  /** The task's id. */
  taskId: string | number
  /** The task's position in the run, from 0. */
  taskIndex: number
  /** The rollout's position in its group, from 0. */
  sampleIndex: number
  /** The rollout's id. */
  rolloutId: string | number
  /** `taskIndex * groupSize + sampleIndex`. */
  rolloutNumber: number
}

/** Options of {@link runRollouts}. */
export interface RunRolloutsOptions {
  /** The tasks; each gets `groupSize` rollouts. Ids must be unique (as strings: `7` and `'7'` clash). */
  tasks: readonly RolloutTask[]
  /** Rollouts per task (a GRPO group). Default 1. */
  groupSize?: number
  /** Runs one rollout attempt: `agentRollout(factory)` for a Strands agent, or your own function. */
  rollout: RolloutFunction
  /** Scores each rollout. Default: the reward the rollout function returned, else `null`. */
  reward?: RewardFunction
  /**
   * The first chat request of a rollout, built without the model (`agentFirstRequest(factory)` for an agent):
   * the prompt ids of a rollout that failed before its first model call come from its `/tokenize`. Without it
   * such a rollout has no prompt ids, and the trainer export leaves it out. Default: none.
   */
  firstRequest?: FirstRequestFunction
  /** The model server's root URL (a trailing `/v1` is accepted), e.g. `http://127.0.0.1:8000`. */
  baseUrl: string
  /** The model name to request. */
  modelId: string
  /** Bearer token of the model server. Default `'EMPTY'`. Never logged. */
  apiKey?: string
  /** Rollouts running at once (a number, or a `ConcurrencyLimiter` shared with other runs). Default 16. */
  concurrency?: number | ConcurrencyLimiter
  /** Time limit of one attempt, ms; the attempt's signal aborts (and its HTTP calls end) when it runs out. Default 600,000. */
  timeoutMs?: number
  /** Retries of retryable failures (see `classifyFailure`). Default 3 attempts, 0.5 s → 8 s backoff with jitter. */
  retry?: Partial<RetryPolicy>
  /** Sticky routing: the header that carries the rollout id (default `X-Session-ID`), vLLM's data-parallel rank. */
  routing?: Partial<RoutingOptions>
  /** `true`: streaming model calls; `false` (default): non-streaming ones. Passed to the rollout function. */
  stream?: boolean
  /** Request fields for every model call, in vLLM's wire names. Default `{ logprobs: true }` (merged under yours). */
  samplingParams?: Record<string, unknown>
  /** The id of each rollout. Default `${taskId}/${sampleIndex}`: the same in a resumed run. Must be unique. */
  rolloutId?: (ids: Omit<RolloutIds, 'rolloutId'>) => string | number
  /** Rollouts to leave out (e.g. those a resumed run already has). Default: none. */
  skip?: (ids: RolloutIds) => boolean
  /** More headers for every model call of a rollout (tracing, auth, a test's fault injection). */
  requestHeaders?: Record<string, string> | ((ids: RolloutIds) => Record<string, string>)
  /** Retries of `VLLMClient` itself, before a call's first byte (connect errors, 429, 5xx). Default 2. */
  clientRetries?: number
  /** Cancels the run: no new rollout starts, the running ones are aborted. */
  signal?: AbortSignal
}

/** The checked options of a run. */
export interface RunSettings {
  /** Rollouts per task. */
  groupSize: number
  /** The rollout function. */
  rollout: RolloutFunction
  /** The reward function, if any. */
  reward: RewardFunction | undefined
  /** The first-request function, if any. */
  firstRequest: FirstRequestFunction | undefined
  /** The model server's root URL. */
  baseUrl: string
  /** The model to request. */
  modelId: string
  /** The model server's API key. */
  apiKey: string
  /** The concurrency slots (the run's own, or one shared with other runs). */
  limiter: ConcurrencyLimiter
  /** Time limit of one attempt, ms. */
  timeoutMs: number
  /** The retry policy, defaults applied. */
  retry: RetryPolicy
  /** The sticky-routing options, defaults applied. */
  routing: RoutingOptions
  /** Streaming model calls or not. */
  stream: boolean
  /** Request fields of every model call, `{ logprobs: true }` merged under the given ones. */
  samplingParams: Readonly<Record<string, unknown>>
  /** More headers of a rollout's model calls, asked once per attempt. */
  requestHeaders: (ids: RolloutIds) => Record<string, string>
  /** `VLLMClient` retries before the first byte. */
  clientRetries: number
  /** The run's cancellation signal, if any. */
  signal: AbortSignal | undefined
}

/** One rollout of the plan. */
export interface PlannedRollout extends RolloutIds {
  /** The rollout's task. */
  task: RolloutTask
}

const WHERE = 'runRollouts'

/**
 * The longest time limit a timer holds (2^31 - 1 ms, about 24.8 days): Node fires a longer `setTimeout` after
 * 1 ms, which would time every attempt out at once.
 */
export const MAX_TIMEOUT_MS = 2_147_483_647

const KNOWN = [
  'tasks',
  'groupSize',
  'rollout',
  'reward',
  'firstRequest',
  'baseUrl',
  'modelId',
  'apiKey',
  'concurrency',
  'timeoutMs',
  'retry',
  'routing',
  'stream',
  'samplingParams',
  'rolloutId',
  'skip',
  'requestHeaders',
  'clientRetries',
  'signal',
]

/**
 * Checks the options and lays out the plan: every task × sample in task order, minus the skipped ones.
 *
 * @throws InvalidOptionError naming the option (or `tasks[i].field`) that is wrong.
 */
export function readRunOptions(options: RunRolloutsOptions): {
  settings: RunSettings
  plan: PlannedRollout[]
  skipped: number
} {
  const read = new OptionReader(WHERE, options).rejectUnknown(KNOWN)
  const tasks = read.custom('tasks', 'an array of tasks', Array.isArray, { required: true }) as unknown[]
  const settings = readSettings(read)
  const idFor = read.function<NonNullable<RunRolloutsOptions['rolloutId']>, { required?: true }>('rolloutId')
  const skip = read.function<NonNullable<RunRolloutsOptions['skip']>, { required?: true }>('skip')
  const checkedTasks = tasks.map((task, index) => checkTask(task, index))
  rejectDuplicateTaskIds(checkedTasks)
  return { settings, ...planRollouts(checkedTasks, settings.groupSize, idFor, skip) }
}

function readSettings(read: OptionReader): RunSettings {
  const concurrency = read.raw('concurrency')
  const limiter =
    concurrency instanceof ConcurrencyLimiter
      ? concurrency
      : new ConcurrencyLimiter(read.integer('concurrency', { minimum: 1, maximum: 1_000_000 }) ?? 16)
  return {
    groupSize: read.integer('groupSize', { minimum: 1, maximum: 100_000 }) ?? 1,
    rollout: read.function<RolloutFunction, { required: true }>('rollout', { required: true }),
    reward: read.function<RewardFunction, { required?: true }>('reward'),
    firstRequest: read.function<FirstRequestFunction, { required?: true }>('firstRequest'),
    baseUrl: read.string('baseUrl', { required: true, nonEmpty: true }),
    modelId: read.string('modelId', { required: true, nonEmpty: true }),
    apiKey: read.string('apiKey', { nonEmpty: true }) ?? 'EMPTY',
    limiter,
    timeoutMs: read.integer('timeoutMs', { minimum: 1, maximum: MAX_TIMEOUT_MS }) ?? 600_000,
    retry: readRetryPolicy(WHERE, read.raw('retry')),
    routing: readRoutingOptions(WHERE, read.raw('routing')),
    stream: read.boolean('stream') ?? false,
    samplingParams: { logprobs: true, ...(read.object('samplingParams') ?? {}) },
    requestHeaders: readRequestHeaders(read),
    clientRetries: read.integer('clientRetries', { maximum: 20 }) ?? 2,
    signal: read.custom('signal', 'an AbortSignal', (value) => value instanceof AbortSignal),
  }
}

/** Every task × sample in task order, with unique ids, minus the skipped ones. */
function planRollouts(
  tasks: readonly RolloutTask[],
  groupSize: number,
  idFor: RunRolloutsOptions['rolloutId'],
  skip: RunRolloutsOptions['skip'],
): { plan: PlannedRollout[]; skipped: number } {
  const plan: PlannedRollout[] = []
  const seenIds = new Map<string, string>()
  let skipped = 0
  for (const [taskIndex, task] of tasks.entries()) {
    for (let sampleIndex = 0; sampleIndex < groupSize; sampleIndex += 1) {
      const base = {
        taskId: task.id,
        taskIndex,
        sampleIndex,
        rolloutNumber: taskIndex * groupSize + sampleIndex,
      }
      const rolloutId = idFor ? checkRolloutId(idFor(base), base) : `${task.id}/${sampleIndex}`
      const owner = `task ${JSON.stringify(task.id)} sample ${sampleIndex}`
      const clash = seenIds.get(String(rolloutId))
      if (clash !== undefined) {
        throw new InvalidOptionError(
          WHERE,
          'rolloutId',
          `rollout id ${JSON.stringify(String(rolloutId))} of ${owner} is also ${clash}'s; rollout ids must be unique`,
        )
      }
      seenIds.set(String(rolloutId), owner)
      const planned = { ...base, rolloutId, task }
      if (skip?.(planned)) skipped += 1
      else plan.push(planned)
    }
  }
  return { plan, skipped }
}

/** Checks one task: a plain object with an id (non-empty string or integer >= 0) and a non-empty question. */
export function checkTask(task: unknown, index: number): RolloutTask {
  const where = `${WHERE} tasks[${index}]`
  if (!isPlainObject(task)) {
    throw new InvalidOptionError(
      where,
      `tasks[${index}]`,
      `a task must be an object with id and question, got ${describeValue(task)}`,
    )
  }
  const read = new OptionReader(where, task)
  read.custom('id', 'a non-empty string or an integer >= 0', isTaskId, { required: true })
  read.string('question', { required: true, nonEmpty: true })
  return task as RolloutTask
}

function rejectDuplicateTaskIds(tasks: readonly RolloutTask[]): void {
  const seen = new Map<string, number>()
  for (const [index, task] of tasks.entries()) {
    const earlier = seen.get(String(task.id))
    if (earlier !== undefined) {
      throw new InvalidOptionError(
        `${WHERE} tasks[${index}]`,
        'id',
        `task id ${JSON.stringify(task.id)} is also the id of tasks[${earlier}]; task ids must be unique (compared as strings)`,
      )
    }
    seen.set(String(task.id), index)
  }
}

function checkRolloutId(value: unknown, ids: Omit<RolloutIds, 'rolloutId'>): string | number {
  if (isTaskId(value)) return value
  throw new InvalidOptionError(
    WHERE,
    'rolloutId',
    `the rolloutId function returned ${describeValue(value)} for task ${JSON.stringify(ids.taskId)} sample ${ids.sampleIndex}; ids must be non-empty strings or integers >= 0`,
  )
}

function readRequestHeaders(read: OptionReader): (ids: RolloutIds) => Record<string, string> {
  const value = read.raw('requestHeaders')
  if (value === undefined) return () => ({})
  if (typeof value === 'function') return value as (ids: RolloutIds) => Record<string, string>
  const headers = read.custom('requestHeaders', 'an object of header strings or a function', isHeaderRecord)
  return () => headers ?? {}
}

function isHeaderRecord(value: unknown): value is Record<string, string> {
  return isPlainObject(value) && Object.values(value).every((entry) => typeof entry === 'string')
}

/** A non-empty string or an integer >= 0 (what every trainer export accepts as an id). */
export function isTaskId(value: unknown): value is string | number {
  return (
    (typeof value === 'string' && value !== '') || (Number.isSafeInteger(value) && (value as number) >= 0)
  )
}
