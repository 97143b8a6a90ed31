import { HttpError, UnhandledServerError } from './fastapi-responses'

/** How the proxy talks to the model server (`agentlightning/server/proxy.py`'s constants by default). */
export interface UpstreamSettings {
  /** Requests per proxied call at most (`_UPSTREAM_MAX_ATTEMPTS` = 6). */
  maxAttempts: number
  /** First retry delay in ms (`_RETRY_BACKOFF_BASE_SECONDS` = 0.5 s); doubles per retry. */
  baseDelayMs: number
  /** Delay cap in ms before jitter (`_RETRY_BACKOFF_CAP_SECONDS` = 8 s). */
  capDelayMs: number
  /** Time allowed for one upstream request, in ms (the gateway's httpx client: 300 s). */
  timeoutMs: number
  /** Uniform random numbers in [0, 1) for the ×0.75–1.25 jitter. */
  random: () => number
}

/** The upstream answer the proxy passes back and records. */
export interface UpstreamAnswer {
  /** HTTP status of the last answer. */
  status: number
  /** The parsed JSON body, or `{}` when the answer was not `application/json`. */
  body: unknown
  /** Retries before this answer (`agl_retry_count`). */
  retryCount: number
}

/** Statuses the proxy retries: 408, 409, 429 and every 5xx (`_is_retryable_status`). */
export function isRetryableUpstreamStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500
}

/** The delay before retry `attemptIndex + 1` (`_retry_delay_seconds`), in ms. */
export function upstreamRetryDelayMs(attemptIndex: number, settings: UpstreamSettings): number {
  const base = Math.min(settings.baseDelayMs * 2 ** attemptIndex, settings.capDelayMs)
  return base * (0.75 + 0.5 * settings.random())
}

/**
 * POSTs the prepared body to the model server (`_send_upstream_with_retries`): timeouts, connection errors and
 * retryable statuses are retried with backoff; the last retryable answer is returned as it is. When no
 * answer ever arrives: 504 `Upstream model server timed out` or 502 `Upstream model server request failed`.
 */
export async function sendUpstreamWithRetries(
  url: string,
  body: unknown,
  settings: UpstreamSettings,
): Promise<UpstreamAnswer> {
  const payload = JSON.stringify(body)
  for (let attemptIndex = 0; attemptIndex < settings.maxAttempts; attemptIndex += 1) {
    const last = attemptIndex === settings.maxAttempts - 1
    let status: number
    let contentType: string
    let text: string
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: payload,
        signal: AbortSignal.timeout(settings.timeoutMs),
      })
      status = response.status
      contentType = response.headers.get('content-type') ?? ''
      text = await response.text()
    } catch (error) {
      const timedOut =
        error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')
      if (last) {
        throw timedOut
          ? new HttpError(504, 'Upstream model server timed out')
          : new HttpError(502, 'Upstream model server request failed')
      }
      await sleep(upstreamRetryDelayMs(attemptIndex, settings))
      continue
    }
    if (!isRetryableUpstreamStatus(status) || last) {
      return { status, body: parseUpstreamBody(contentType, text), retryCount: attemptIndex }
    }
    await sleep(upstreamRetryDelayMs(attemptIndex, settings))
  }
  throw new HttpError(502, 'Upstream model server request failed')
}

/** `response.json()` for a JSON content type, `{}` otherwise; a broken JSON body fails the request (500). */
function parseUpstreamBody(contentType: string, text: string): unknown {
  if (!contentType.startsWith('application/json')) return {}
  try {
    return JSON.parse(text)
  } catch {
    throw new UnhandledServerError('the upstream sent invalid JSON')
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
