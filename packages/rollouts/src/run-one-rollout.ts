import { VLLMClient } from '@vllm-tito/client'
import { untilAborted } from '@vllm-tito/spec'
import { classifyFailure, describeError, findRetryAfterSeconds } from './classify-failure'
import { RolloutTimeoutError } from './errors'
import { retryDelayMs } from './retry-policy'
import { type AttemptClient, createRolloutModelClient } from './rollout-model-client'
import { findPromptIds } from './rollout-prompt-ids'
import type { RolloutContext, RolloutFailureInfo, RolloutOutput, RolloutResult } from './rollout-types'
import { routingHeaders } from './routing-headers'
import type { PlannedRollout, RunSettings } from './run-options'
import { agentFailure, findOutputProblem, noRecordsFailure, scoreRollout } from './score-rollout'
import { sleep } from './sleep'

/** How long an aborted attempt waits for its cut calls to leave their partial records. */
const CALLS_SETTLE_MS = 1_000

/** A rollout either finished (succeeded or failed after its attempts) or was cancelled with the run. */
export type RolloutEnd = { result: RolloutResult } | { cancelled: true }

/** What one attempt left: the output or the failure, what its client saw, and the context it ran with. */
interface AttemptEnd {
  output: RolloutOutput | null
  failure: RolloutFailureInfo | null
  retryAfterSeconds: number | undefined
  client: AttemptClient
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
  const scored = await scoreRollout(
    planned,
    settings,
    { answer, records, failure, output: attempt.output },
    runSignal,
  )
  // cancelled while its reward ran: not finished, so it is not yielded and a resumed run redoes it
  if ('cancelled' in scored) return { cancelled: true }
  failure ??= scored.failure
  let prompt: { ids: number[] | null; problem?: string } = { ids: null }
  if (!records.some((record) => record.verification.verified)) {
    prompt = await findPromptIds(
      { given: attempt.output?.promptTokenIds, sent: attempt.client.firstRequest, context: attempt.context },
      settings,
      runSignal,
    )
    // cancelled while its prompt ids were asked for: not finished either
    if (prompt.ids === null && runSignal.aborted) return { cancelled: true }
  }
  return {
    result: {
      ...resultIds(planned),
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
    // the calls the abort cut leave their partial records a moment later; all of them take the attempt's
    // signal, so they end at once (the bound is for a client that would not)
    if (signal.aborted)
      await untilAborted(client.callsSettled(), AbortSignal.timeout(CALLS_SETTLE_MS)).catch(() => {})
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

/** The ids of a result: the task's and the rollout's. */
function resultIds(planned: PlannedRollout) {
  return {
    task: planned.task,
    taskId: planned.taskId,
    taskIndex: planned.taskIndex,
    sampleIndex: planned.sampleIndex,
    rolloutId: planned.rolloutId,
    rolloutNumber: planned.rolloutNumber,
  }
}

function failedResult(
  planned: PlannedRollout,
  startedAt: number,
  failure: RolloutFailureInfo,
): RolloutResult {
  return {
    ...resultIds(planned),
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
