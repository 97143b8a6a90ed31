import { VLLMClient } from '@vllm-tito/client'
import { isTokenRecord, type TokenRecord } from '@vllm-tito/spec'
import { classifyFailure, describeError, findRetryAfterSeconds } from './classify-failure'
import { RolloutTimeoutError } from './errors'
import { retryDelayMs, sleep } from './retry-policy'
import { createRolloutModelClient, type RolloutModelClient } from './rollout-model-client'
import { findPromptIds } from './rollout-prompt-ids'
import type { RolloutContext, RolloutFailureInfo, RolloutOutput, RolloutResult } from './rollout-types'
import { routingHeaders } from './routing-headers'
import type { PlannedRollout, RunSettings } from './run-options'

/** A rollout either finished (succeeded or failed after its attempts) or was cancelled with the run. */
export type RolloutEnd = { result: RolloutResult } | { cancelled: true }

/** What one attempt left: the output or the failure, what its client saw, and the context it ran with. */
interface AttemptEnd {
  output: RolloutOutput | null
  failure: RolloutFailureInfo | null
  retryAfterSeconds: number | undefined
  client: RolloutModelClient
  context: RolloutContext
}

/**
 * Runs one rollout to its end: attempts with retries and backoff, then the reward, then (for a rollout without
 * a verified record) the task's prompt ids. Never rejects: every failure becomes part of the result, and a
 * cancelled run gives `{ cancelled: true }`.
 */
export async function runOneRollout(
  planned: PlannedRollout,
  settings: RunSettings,
  runSignal: AbortSignal,
): Promise<RolloutEnd> {
  const startedAt = Date.now()
  try {
    return await runToEnd(planned, settings, runSignal, startedAt)
  } catch (error) {
    // a defect of the runner itself still ends as this rollout's failure, never as another rollout's
    if (runSignal.aborted) return { cancelled: true }
    return {
      result: failedResult(planned, startedAt, agentFailure(`the runner failed: ${describeError(error)}`)),
    }
  }
}

async function runToEnd(
  planned: PlannedRollout,
  settings: RunSettings,
  runSignal: AbortSignal,
  startedAt: number,
): Promise<RolloutEnd> {
  const retriedFailures: RolloutFailureInfo[] = []
  let attempt: AttemptEnd
  for (let index = 0; ; index += 1) {
    attempt = await runAttempt(planned, settings, runSignal, index)
    if (runSignal.aborted && (attempt.failure !== null || attempt.output === null)) return { cancelled: true }
    if (attempt.failure === null || !attempt.failure.retryable || index + 1 >= settings.retry.attempts) break
    retriedFailures.push(attempt.failure)
    try {
      await sleep(retryDelayMs(settings.retry, index + 1, attempt.retryAfterSeconds), runSignal)
    } catch {
      return { cancelled: true }
    }
  }
  const records = attempt.output ? [...attempt.output.records] : [...attempt.client.records]
  const answer = attempt.output?.answer ?? null
  let failure = attempt.failure ?? (records.length === 0 ? noRecordsFailure() : null)
  const scored = await scoreRollout(planned, settings, { answer, records, failure, output: attempt.output })
  failure ??= scored.failure
  const prompt = records.some((record) => record.verification.verified)
    ? { ids: null }
    : await findPromptIds(
        {
          given: attempt.output?.promptTokenIds,
          sent: attempt.client.firstRequest,
          context: attempt.context,
        },
        settings,
        runSignal,
      )
  // cancelled while its prompt ids were asked for: not finished, so it is not yielded and a resumed run redoes it
  if (prompt.ids === null && runSignal.aborted) return { cancelled: true }
  return {
    result: {
      task: planned.task,
      taskId: planned.taskId,
      taskIndex: planned.taskIndex,
      sampleIndex: planned.sampleIndex,
      rolloutId: planned.rolloutId,
      rolloutNumber: planned.rolloutNumber,
      status: failure === null ? 'succeeded' : 'failed',
      records,
      answer,
      reward: scored.reward,
      failure,
      attempts: retriedFailures.length + 1,
      retriedFailures,
      promptTokenIds: prompt.ids,
      ...(prompt.problem === undefined ? {} : { promptTokenIdsProblem: prompt.problem }),
      modelCalls: { ...attempt.client.calls },
      startedAt,
      endedAt: Date.now(),
    },
  }
}

async function runAttempt(
  planned: PlannedRollout,
  settings: RunSettings,
  runSignal: AbortSignal,
  attempt: number,
): Promise<AttemptEnd> {
  // one controller per attempt, the run's abort forwarded by hand: AbortSignal.any costs a weak reference and a
  // finalizer per signal, which thousands of concurrent attempts turn into garbage-collector time
  const attemptController = new AbortController()
  const signal = attemptController.signal
  const forwardRunAbort = () => attemptController.abort(runSignal.reason)
  if (runSignal.aborted) forwardRunAbort()
  else runSignal.addEventListener('abort', forwardRunAbort, { once: true })
  const timer = setTimeout(
    () => attemptController.abort(new RolloutTimeoutError(settings.timeoutMs)),
    settings.timeoutMs,
  )
  const client = createRolloutModelClient(newVLLMClient(planned, settings), signal)
  const context: RolloutContext = {
    task: planned.task,
    taskIndex: planned.taskIndex,
    sampleIndex: planned.sampleIndex,
    rolloutId: planned.rolloutId,
    rolloutNumber: planned.rolloutNumber,
    attempt,
    signal,
    client,
    baseUrl: settings.baseUrl,
    modelId: settings.modelId,
    stream: settings.stream,
    samplingParams: settings.samplingParams,
  }
  try {
    const output = await untilAborted(settings.rollout(context), signal)
    const problem = findOutputProblem(output)
    if (problem !== undefined) {
      return { output: null, failure: agentFailure(problem), retryAfterSeconds: undefined, client, context }
    }
    return { output, failure: null, retryAfterSeconds: undefined, client, context }
  } catch (error) {
    // after an abort the signal's reason says why, whatever the rollout's code turned it into
    const cause = signal.aborted ? signal.reason : error
    return {
      output: null,
      failure: classifyFailure(cause),
      retryAfterSeconds: findRetryAfterSeconds(cause),
      client,
      context,
    }
  } finally {
    runSignal.removeEventListener('abort', forwardRunAbort)
    clearTimeout(timer)
  }
}

function newVLLMClient(planned: PlannedRollout, settings: RunSettings): VLLMClient {
  return new VLLMClient({
    baseUrl: settings.baseUrl,
    apiKey: settings.apiKey,
    maxRetries: settings.clientRetries,
    defaultHeaders: {
      ...settings.requestHeaders(planned),
      ...routingHeaders(planned.rolloutId, settings.routing),
    },
  })
}

/**
 * Settles with `work`, or rejects with the signal's reason as soon as it aborts: a rollout function that
 * ignores its signal cannot hold the run past its timeout (its later calls fail at once, the signal being
 * aborted).
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  work.catch(() => {})
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}

function findOutputProblem(output: unknown): string | undefined {
  if (typeof output !== 'object' || output === null) {
    return `the rollout function must resolve with { records, answer?, reward? }, got ${String(output)}`
  }
  const { records, answer, reward } = output as Partial<RolloutOutput>
  if (!Array.isArray(records)) return 'the rollout function resolved without a `records` array'
  const bad = records.findIndex((record) => !isTokenRecord(record))
  if (bad !== -1) return `the rollout function's records[${bad}] is not a TokenRecord`
  if (answer !== undefined && answer !== null && typeof answer !== 'string') {
    return 'the rollout function resolved with an `answer` that is not a string or null'
  }
  if (reward !== undefined && reward !== null && !(typeof reward === 'number' && Number.isFinite(reward))) {
    return 'the rollout function resolved with a `reward` that is not a finite number or null'
  }
  return undefined
}

interface ScoreInput {
  answer: string | null
  records: readonly TokenRecord[]
  failure: RolloutFailureInfo | null
  output: RolloutOutput | null
}

/** The reward; a reward function that throws or returns a non-number fails the rollout but keeps its records. */
async function scoreRollout(
  planned: PlannedRollout,
  settings: RunSettings,
  input: ScoreInput,
): Promise<{ reward: number | null; failure: RolloutFailureInfo | null }> {
  const ownReward = input.output?.reward ?? null
  if (settings.reward === undefined) return { reward: ownReward, failure: null }
  try {
    const reward = await settings.reward(planned.task, {
      answer: input.answer,
      records: input.records,
      failure: input.failure,
      reward: ownReward,
      rolloutId: planned.rolloutId,
      sampleIndex: planned.sampleIndex,
    })
    if (reward === null || (typeof reward === 'number' && Number.isFinite(reward))) {
      return { reward, failure: null }
    }
    return {
      reward: null,
      failure: rewardFailure(`the reward function returned ${String(reward)}, not a finite number or null`),
    }
  } catch (error) {
    return { reward: null, failure: rewardFailure(`the reward function threw ${describeError(error)}`) }
  }
}

function failedResult(
  planned: PlannedRollout,
  startedAt: number,
  failure: RolloutFailureInfo,
): RolloutResult {
  return {
    task: planned.task,
    taskId: planned.taskId,
    taskIndex: planned.taskIndex,
    sampleIndex: planned.sampleIndex,
    rolloutId: planned.rolloutId,
    rolloutNumber: planned.rolloutNumber,
    status: 'failed',
    records: [],
    answer: null,
    reward: null,
    failure,
    attempts: 1,
    retriedFailures: [],
    promptTokenIds: null,
    modelCalls: { streamed: 0, nonStreamed: 0 },
    startedAt,
    endedAt: Date.now(),
  }
}

function agentFailure(message: string): RolloutFailureInfo {
  return { kind: 'agent', source: 'agent', message, retryable: false, statusCode: null }
}

function rewardFailure(message: string): RolloutFailureInfo {
  return { kind: 'reward', source: 'agent', message, retryable: false, statusCode: null }
}

function noRecordsFailure(): RolloutFailureInfo {
  return {
    kind: 'no-records',
    source: 'agent',
    message:
      'the rollout made no model call through its context (for a Strands agent: build it with context.model and context.recorder)',
    retryable: false,
    statusCode: null,
  }
}
