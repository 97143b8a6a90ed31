import {
  APICallError,
  ContextOverflowError,
  InvalidOptionError,
  isRetryableStatus,
  StreamInterruptedError,
  TokenIdsMismatchError,
  TokenIdsUnavailableError,
} from '@vllm-tito/spec'
import { InvalidTaskError, RolloutTimeoutError } from './errors'
import type { RolloutFailureInfo } from './rollout-types'

/** How deep the `cause` chain is searched (Strands wraps the client's error in a `ModelError`). */
const MAX_CAUSE_DEPTH = 6

/**
 * Classifies the error that ended a rollout attempt: what failed, and whether another attempt may succeed.
 *
 * - retried: a timeout, a model call that failed with a retryable status (connect errors, 408, 409, 429, 5xx —
 *   the client's own retries before the first byte were used up), a stream that broke off mid-way, and the
 *   Strands SDK's `ModelThrottledError`;
 * - never retried: a bad task (`InvalidTaskError`, a prompt over the context length), any other 4xx, token
 *   ids the server did not return or that disagree with its usage (a server setting, not chance), a bad
 *   option, and every other error of the agent's or a tool's own code (it would fail the same way again).
 *
 * Strands errors are recognised by name, so the runner's core does not load the SDK.
 */
export function classifyFailure(error: unknown): RolloutFailureInfo {
  const message = describeError(error)
  for (let current = error, depth = 0; current !== undefined && depth < MAX_CAUSE_DEPTH; depth += 1) {
    const known = classifyKnown(current, message)
    if (known !== undefined) return known
    current = (current as { cause?: unknown } | null)?.cause
  }
  const toolError = error instanceof Error && /tool/i.test(error.name)
  return {
    kind: toolError ? 'tool' : 'agent',
    source: toolError ? 'tool' : 'agent',
    message,
    retryable: false,
    statusCode: null,
  }
}

function classifyKnown(error: unknown, message: string): RolloutFailureInfo | undefined {
  const failure = (
    kind: RolloutFailureInfo['kind'],
    source: RolloutFailureInfo['source'],
    retryable: boolean,
    statusCode: number | null = null,
  ): RolloutFailureInfo => ({ kind, source, message, retryable, statusCode })
  if (RolloutTimeoutError.isInstance(error)) return failure('timeout', 'api', true)
  if (InvalidTaskError.isInstance(error)) return failure('bad-task', 'agent', false)
  if (ContextOverflowError.isInstance(error))
    return failure('bad-task', 'api', false, error.statusCode ?? 400)
  if (TokenIdsMismatchError.isInstance(error) || TokenIdsUnavailableError.isInstance(error)) {
    return failure('token-ids', 'api', false)
  }
  if (APICallError.isInstance(error)) {
    return failure('api', 'api', error.isRetryable, error.statusCode ?? null)
  }
  if (StreamInterruptedError.isInstance(error)) {
    // a mid-stream error body with a client-error code (a bad request found late) would fail again
    return failure('api', 'api', isRetryableStatus(error.statusCode), error.statusCode ?? null)
  }
  if (InvalidOptionError.isInstance(error)) return failure('agent', 'agent', false)
  if (error instanceof Error && error.name === 'ModelThrottledError') return failure('api', 'api', true, 429)
  if (error instanceof Error && error.name === 'ContextWindowOverflowError') {
    return failure('bad-task', 'api', false, 400)
  }
  return undefined
}

/** `Name: message` of an error (the innermost vllm-tito error's message is usually the most useful). */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`
  return `thrown value: ${String(error)}`
}

/** The `Retry-After` (seconds) the server sent with the error, searched along the `cause` chain. */
export function findRetryAfterSeconds(error: unknown): number | undefined {
  for (let current = error, depth = 0; current !== undefined && depth < MAX_CAUSE_DEPTH; depth += 1) {
    if (APICallError.isInstance(current) && current.retryAfterSeconds !== undefined) {
      return current.retryAfterSeconds
    }
    current = (current as { cause?: unknown } | null)?.cause
  }
  return undefined
}
