import { OptionReader } from '@vllm-tito/spec'

/** How failed rollout attempts are retried (only failures classified as retryable). */
export interface RetryPolicy {
  /** Attempts per rollout, the first included (1 = no retry). Default 3. */
  attempts: number
  /** Delay before the first retry, ms; doubled for each further retry. Default 500. */
  initialDelayMs: number
  /** The longest delay between attempts, ms. Default 8,000. */
  maxDelayMs: number
  /**
   * The longest `Retry-After` honoured, seconds: a server asking for a longer pause gets this one. Default 60.
   */
  maxRetryAfterSeconds: number
}

/** The policy's defaults: 3 attempts, 0.5 s → 1 s → … up to 8 s, with full jitter. */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = {
  attempts: 3,
  initialDelayMs: 500,
  maxDelayMs: 8_000,
  maxRetryAfterSeconds: 60,
}

/** Reads a `retry` option (a partial {@link RetryPolicy}); `where` names the call in errors. */
export function readRetryPolicy(where: string, options: unknown): RetryPolicy {
  const read = new OptionReader(`${where} retry`, options).rejectUnknown(Object.keys(DEFAULT_RETRY_POLICY))
  const policy: RetryPolicy = {
    attempts: read.integer('attempts', { minimum: 1, maximum: 100 }) ?? DEFAULT_RETRY_POLICY.attempts,
    initialDelayMs: read.integer('initialDelayMs') ?? DEFAULT_RETRY_POLICY.initialDelayMs,
    maxDelayMs: read.integer('maxDelayMs') ?? DEFAULT_RETRY_POLICY.maxDelayMs,
    maxRetryAfterSeconds: read.integer('maxRetryAfterSeconds') ?? DEFAULT_RETRY_POLICY.maxRetryAfterSeconds,
  }
  if (policy.maxDelayMs < policy.initialDelayMs) {
    read.fail(
      'maxDelayMs',
      `option \`maxDelayMs\` (${policy.maxDelayMs}) must be >= initialDelayMs (${policy.initialDelayMs})`,
    )
  }
  return policy
}

/**
 * The pause before retry number `retry` (1 for the first retry), ms: exponential backoff with full jitter
 * (a uniform draw below the exponential cap, so a fleet of rollouts that failed together does not retry
 * together), but never shorter than the server's `Retry-After`.
 */
export function retryDelayMs(
  policy: RetryPolicy,
  retry: number,
  retryAfterSeconds: number | undefined,
  random: () => number = Math.random,
): number {
  const cap = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (retry - 1))
  const jittered = Math.floor(random() * cap)
  if (retryAfterSeconds === undefined || !(retryAfterSeconds > 0)) return jittered
  return Math.max(jittered, Math.min(retryAfterSeconds, policy.maxRetryAfterSeconds) * 1000)
}
