import type { IncomingMessage, ServerResponse } from 'node:http'
import { InvalidOptionError } from '@vllm-tito/spec'
import { TrainerRowError } from '@vllm-tito/trajectory'
import type { ConcurrencyLimiter } from '../concurrency-limiter'
import { RunCancelledError } from '../errors'
import type { RolloutResult } from '../rollout-types'
import { runRollouts } from '../run-rollouts'
import { summarizeRun } from '../run-summary'
import { tokensTrainedOn, toTrainerRows, trajectoryOptionsFor } from '../trainer-rows'
import { BodyError, readJsonBody, sendError, sendJson } from './http-json'
import { type RolloutRequest, readRolloutRequest } from './read-rollout-request'
import type { ServiceSettings } from './service-options'

/** What the handler shares with the service: settings, the shared limiter and the admission count. */
export interface ServiceState {
  settings: ServiceSettings
  limiter: ConcurrencyLimiter
  /** Rollouts admitted and not yet answered. */
  pending: number
  /** `true` once the service stops taking requests. */
  draining: boolean
  /** Aborts the rollouts of every open request (the service is closing). */
  closing: AbortSignal
}

/**
 * `POST /v1/rollouts`: checks the body, admits its rollouts or answers 429, runs them, answers with the group's
 * rows in the trainer's format. A client that disconnects cancels its rollouts (their HTTP calls end).
 */
export async function handleRollouts(
  state: ServiceState,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const { settings } = state
  const started = Date.now()
  const parsed = await readRequest(state, request, response)
  if (parsed === undefined) return
  const count = parsed.tasks.length * parsed.groupSize
  if (count > settings.maxPending) {
    sendError(response, 400, {
      type: 'invalid_request',
      field: parsed.tasks.length > 1 ? 'tasks' : 'group_size',
      message: `this request has ${count} rollouts, more than the service admits at once (${settings.maxPending}); split it or start the service with a larger --max-pending`,
    })
    return
  }
  if (state.pending + count > settings.maxPending) {
    sendError(response, 429, {
      type: 'saturated',
      message: `the service is running ${state.pending} of the ${settings.maxPending} rollouts it admits at once; retry after ${settings.retryAfterSeconds} s`,
      retry_after_seconds: settings.retryAfterSeconds,
    })
    settings.log(`POST /v1/rollouts 429 (${count} rollouts, ${state.pending} pending)`)
    return
  }
  state.pending += count
  const controller = new AbortController()
  const onClose = () => {
    if (!response.writableFinished) controller.abort(new Error('the client disconnected'))
  }
  response.on('close', onClose)
  const onClosing = () => controller.abort(new Error('the service is shutting down'))
  state.closing.addEventListener('abort', onClosing, { once: true })
  // a listener added to an aborted signal never runs: a body that arrived after the shutdown cancelled the
  // open requests (or from a client already gone) must not start rollouts nobody will cancel
  if (state.closing.aborted) onClosing()
  if (response.destroyed) onClose()
  try {
    const results = await runRequest(state, parsed, controller.signal)
    answerWithRows(response, parsed, results)
    settings.log(`POST /v1/rollouts 200 ${parsed.format} ${count} rollouts in ${Date.now() - started} ms`)
  } catch (error) {
    if (!RunCancelledError.isInstance(error)) throw error
    if (state.closing.aborted)
      sendError(response, 503, {
        type: 'draining',
        message: 'the service shut down before the rollouts finished',
        retry_after_seconds: settings.retryAfterSeconds,
      })
    settings.log(`POST /v1/rollouts cancelled: ${error.message}`)
  } finally {
    state.pending -= count
    response.off('close', onClose)
    state.closing.removeEventListener('abort', onClosing)
  }
}

async function readRequest(
  state: ServiceState,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<RolloutRequest | undefined> {
  const { settings } = state
  try {
    const parsed = readRolloutRequest(await readJsonBody(request, settings.maxBodyBytes))
    if (parsed.baseUrl === undefined && settings.baseUrl === undefined) {
      throw new InvalidOptionError(
        'POST /v1/rollouts',
        'base_url',
        '`base_url` is required: the vLLM server the trainer serves',
      )
    }
    if (parsed.modelId === undefined && settings.modelId === undefined) {
      throw new InvalidOptionError(
        'POST /v1/rollouts',
        'model',
        '`model` is required: the model name the vLLM server serves',
      )
    }
    checkExportOptions(parsed)
    return parsed
  } catch (error) {
    if (error instanceof BodyError) {
      sendError(response, error.status, {
        type: error.status === 413 ? 'too_large' : 'invalid_request',
        field: '(body)',
        message: error.message,
      })
      return undefined
    }
    if (InvalidOptionError.isInstance(error)) {
      sendError(response, 400, { type: 'invalid_request', field: error.option, message: error.message })
      return undefined
    }
    throw error
  }
}

/**
 * The export's own option check, on an empty batch: a misspelt option is a 400 before any rollout runs. A
 * trainer rule an empty batch breaks (ids that match no input order) says nothing about the real batch.
 */
function checkExportOptions(parsed: RolloutRequest): void {
  try {
    toTrainerRows([], { format: parsed.format, exportOptions: parsed.exportOptions })
  } catch (error) {
    if (InvalidOptionError.isInstance(error)) {
      throw new InvalidOptionError(
        'POST /v1/rollouts',
        `export_options.${error.option}`,
        error.message,
        error.allowed,
      )
    }
    if (!TrainerRowError.isInstance(error)) throw error
  }
}

async function runRequest(
  state: ServiceState,
  parsed: RolloutRequest,
  signal: AbortSignal,
): Promise<RolloutResult[]> {
  const { settings } = state
  const ids = parsed.rolloutIds
  const results: RolloutResult[] = []
  const run = runRollouts({
    tasks: parsed.tasks,
    groupSize: parsed.groupSize,
    rollout: settings.rollout,
    ...(settings.reward === undefined ? {} : { reward: settings.reward }),
    ...(settings.firstRequest === undefined ? {} : { firstRequest: settings.firstRequest }),
    baseUrl: (parsed.baseUrl ?? settings.baseUrl)!,
    modelId: (parsed.modelId ?? settings.modelId)!,
    apiKey: settings.apiKey,
    concurrency: state.limiter,
    timeoutMs: parsed.timeoutMs ?? settings.timeoutMs,
    retry: settings.retry,
    routing: settings.routing,
    stream: parsed.stream ?? settings.stream,
    samplingParams: { ...settings.samplingParams, ...parsed.samplingParams },
    signal,
    ...(ids !== null
      ? { rolloutId: ({ rolloutNumber }) => ids[rolloutNumber]! }
      : parsed.format === 'slime'
        ? { rolloutId: ({ rolloutNumber }) => rolloutNumber }
        : {}),
  })
  for await (const result of run) results.push(result)
  return results.sort((left, right) => left.rolloutNumber - right.rolloutNumber)
}

function answerWithRows(response: ServerResponse, parsed: RolloutRequest, results: RolloutResult[]): void {
  const modelId = results[0]?.records[0]?.model ?? parsed.modelId ?? ''
  const rollouts = results.map(describeRollout)
  try {
    const rows = toTrainerRows(results, {
      format: parsed.format,
      trajectory: trajectoryOptionsFor(modelId),
      exportOptions: parsed.exportOptions,
      ids: parsed.ids,
    })
    const summary = summarizeRun(results, tokensTrainedOn(rows), rows.leftOut)
    sendJson(response, 200, {
      format: parsed.format,
      rows: rows.rows,
      rollouts,
      left_out: rows.leftOut.map((entry) => ({
        task_id: entry.taskId,
        sample_index: entry.sampleIndex,
        rollout_id: entry.rolloutId,
        rule: entry.rule,
        reason: entry.reason,
        failure: entry.failure,
      })),
      summary: {
        rollouts: summary.rollouts,
        succeeded: summary.succeeded,
        left_out: summary.leftOut.length,
        verified_share: summary.verifiedShare,
        tokens_trained_on: summary.tokensTrainedOn,
        reward_mean: summary.rewardMean,
      },
    })
  } catch (error) {
    if (!TrainerRowError.isInstance(error)) throw error
    sendJson(response, 422, {
      error: { type: 'trainer_rule', rule: error.rule, message: error.message },
      rollouts,
    })
  }
}

/** The per-rollout part of the answer: ids, status, reward and why it failed. */
function describeRollout(result: RolloutResult) {
  return {
    task_id: result.taskId,
    sample_index: result.sampleIndex,
    rollout_id: result.rolloutId,
    status: result.status,
    reward: result.reward,
    answer: result.answer,
    attempts: result.attempts,
    model_calls: result.records.length,
    failure:
      result.failure === null
        ? null
        : {
            kind: result.failure.kind,
            message: result.failure.message,
            retryable: result.failure.retryable,
            status_code: result.failure.statusCode,
          },
  }
}
