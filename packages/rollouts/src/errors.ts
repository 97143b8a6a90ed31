import { hasErrorMarker, VLLMTitoError } from '@vllm-tito/spec'

const timeoutSymbol = Symbol.for('vllm-tito.error.rollout-timeout')

/**
 * A rollout attempt ran longer than its `timeoutMs`. It is the abort reason of the attempt's signal, so every
 * HTTP call of the attempt ends with it; the attempt is then retried (timeouts are retryable) or recorded as
 * failed with kind `timeout`.
 */
export class RolloutTimeoutError extends VLLMTitoError {
  readonly [timeoutSymbol] = true
  override readonly name: string = 'RolloutTimeoutError'
  /** The attempt's time limit, in milliseconds. */
  readonly timeoutMs: number

  constructor(timeoutMs: number) {
    super(`the rollout attempt took longer than its timeout of ${timeoutMs} ms`)
    this.timeoutMs = timeoutMs
  }

  static override isInstance(error: unknown): error is RolloutTimeoutError {
    return hasErrorMarker(error, timeoutSymbol)
  }
}

const cancelledSymbol = Symbol.for('vllm-tito.error.rollout-run-cancelled')

/**
 * The run's `signal` aborted (or the consumer stopped iterating): no new rollout started, the running ones were
 * aborted, and the results that had finished before were already yielded. Cancelled rollouts are not failures:
 * they were never reported, so a resumed run runs them again.
 */
export class RunCancelledError extends VLLMTitoError {
  readonly [cancelledSymbol] = true
  override readonly name: string = 'RunCancelledError'
  /** Rollouts that had finished (and were yielded) before the cancellation. */
  readonly finished: number
  /** Rollouts that were running or waiting when the run was cancelled (never yielded). */
  readonly cancelled: number

  constructor(finished: number, cancelled: number, reason: unknown) {
    super(
      `the rollout run was cancelled (${describeReason(reason)}): ${finished} rollout(s) finished, ${cancelled} not run to the end`,
      { cause: reason },
    )
    this.finished = finished
    this.cancelled = cancelled
  }

  static override isInstance(error: unknown): error is RunCancelledError {
    return hasErrorMarker(error, cancelledSymbol)
  }
}

const invalidTaskSymbol = Symbol.for('vllm-tito.error.invalid-task')

/**
 * The task itself cannot be rolled out (a rollout function throws it, e.g. when the task's environment cannot
 * be set up). Never retried: another attempt would fail the same way.
 */
export class InvalidTaskError extends VLLMTitoError {
  readonly [invalidTaskSymbol] = true
  override readonly name: string = 'InvalidTaskError'

  static override isInstance(error: unknown): error is InvalidTaskError {
    return hasErrorMarker(error, invalidTaskSymbol)
  }
}

const taskFileSymbol = Symbol.for('vllm-tito.error.task-file')

/** A line of a tasks file is not a task: not JSON, not an object, or without a valid `id`, `question` or `answer`. */
export class TaskFileError extends VLLMTitoError {
  readonly [taskFileSymbol] = true
  override readonly name: string = 'TaskFileError'
  /** The file, as given. */
  readonly path: string
  /** The 1-based line number. */
  readonly line: number

  constructor(path: string, line: number, problem: string) {
    super(`${path} line ${line}: ${problem}`)
    this.path = path
    this.line = line
  }

  static override isInstance(error: unknown): error is TaskFileError {
    return hasErrorMarker(error, taskFileSymbol)
  }
}

const journalSymbol = Symbol.for('vllm-tito.error.rollout-journal')

/**
 * The journal of a run cannot be resumed: a line in its middle is corrupt, it belongs to a run with other
 * arguments (group size, tasks), or another process is writing it.
 */
export class JournalError extends VLLMTitoError {
  readonly [journalSymbol] = true
  override readonly name: string = 'JournalError'
  /** The journal file. */
  readonly path: string

  constructor(path: string, problem: string) {
    super(`${path}: ${problem}`)
    this.path = path
  }

  static override isInstance(error: unknown): error is JournalError {
    return hasErrorMarker(error, journalSymbol)
  }
}

function describeReason(reason: unknown): string {
  if (reason instanceof Error) return reason.message || reason.name
  return reason === undefined ? 'aborted' : String(reason)
}
