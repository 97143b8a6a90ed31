import { isPlainObject } from '@vllm-tito/spec'
import { EventPostError } from './agent-lightning-errors'

/** An event as the gateway stored it (its answer to the post). */
export interface AgentLightningEvent {
  /** The event type, e.g. `reward`. */
  event_type: string
  /** The rollout the gateway filed it under. */
  rollout_id: string
  /** The attempt the gateway filed it under. */
  attempt_id: string
  /** When the gateway stored it, in seconds since the Unix epoch (the gateway's clock). */
  timestamp: number
  /** The payload as stored. */
  data: Record<string, unknown>
}

/** One failed attempt that will be retried, reported to `onRetry`. */
export interface EventRetry {
  /** The event type being posted. */
  eventType: string
  /** The 1-based number of the attempt that failed. */
  attempt: number
  /** How long the poster waits before the next attempt, in milliseconds. */
  delayMs: number
  /** Why it failed: `HTTP 503`, `connection error: ECONNREFUSED`, `timed out after 10000 ms`. */
  reason: string
}

/** How events are posted; every field is checked by `agentLightningFromEnv`. */
export interface EventPostSettings {
  /** The fetch implementation (global `fetch` by default). */
  fetch: typeof fetch
  /** Requests sent at most, the first one included. */
  maxAttempts: number
  /** Delay before the first retry, in milliseconds; doubles with every further retry. */
  initialBackoffMs: number
  /** Cap of the delay, in milliseconds (before jitter). */
  maxBackoffMs: number
  /** Time allowed for one request and its answer, in milliseconds. */
  timeoutMs: number
  /** Uniform random numbers in [0, 1) for the jitter. */
  random: () => number
  /** Called before every retry. */
  onRetry: ((retry: EventRetry) => void) | undefined
}

/**
 * The delay before retry number `retryIndex + 1`: `initialBackoffMs · 2^retryIndex`, capped at
 * `maxBackoffMs`, times a jitter factor from 0.75 to 1.25 (the same shape as the gateway's own upstream
 * retries), so agents that failed together do not retry in lockstep.
 */
export function backoffDelayMs(retryIndex: number, settings: EventPostSettings): number {
  const base = Math.min(settings.maxBackoffMs, settings.initialBackoffMs * 2 ** retryIndex)
  return Math.round(base * (0.75 + 0.5 * settings.random()))
}

/**
 * Posts `{"event_type": type, "data": data}` to `url` with `Authorization: Bearer <key>` (no header when the
 * key is empty: the gateway then checks nothing). Retries on connection errors, timeouts and 5xx answers with
 * exponential backoff and jitter, at most `maxAttempts` requests; a 4xx answer is final at once.
 *
 * @returns the stored event from the gateway's answer, or `null` when the answer was not a JSON object.
 * @throws EventPostError naming the URL, the status and the attempts (never the key).
 */
export async function postEvent(
  url: string,
  key: string,
  eventType: string,
  data: Record<string, unknown>,
  settings: EventPostSettings,
): Promise<AgentLightningEvent | null> {
  const body = JSON.stringify({ event_type: eventType, data })
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' }
  if (key !== '') headers.authorization = `Bearer ${key}`
  const hide = (text: string) => (key.length >= 4 ? text.split(key).join('***') : text)
  const fail = (
    message: string,
    attempts: number,
    details: { statusCode?: number; body?: string; cause?: unknown },
  ) =>
    new EventPostError({
      message: hide(`could not post the ${eventType} event to ${url}: ${message}`),
      url,
      eventType,
      attempts,
      ...(details.statusCode === undefined ? {} : { statusCode: details.statusCode }),
      ...(details.body === undefined ? {} : { responseBody: hide(details.body) }),
      cause: details.cause,
    })
  for (let attempt = 1; ; attempt += 1) {
    let reason: string
    let lastCause: unknown
    let lastStatus: number | undefined
    let lastBody: string | undefined
    try {
      const response = await settings.fetch(url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(settings.timeoutMs),
      })
      const text = await response.text()
      if (response.ok) return parseStoredEvent(text)
      lastStatus = response.status
      lastBody = text
      if (response.status < 500) {
        throw fail(`HTTP ${response.status}${describeAnswer(text)}${hintFor(response.status)}`, attempt, {
          statusCode: response.status,
          body: text,
        })
      }
      reason = `HTTP ${response.status}`
    } catch (error) {
      if (EventPostError.isInstance(error)) throw error
      lastCause = error
      reason = describeConnectionError(error, settings.timeoutMs)
    }
    if (attempt >= settings.maxAttempts) {
      const detail = lastStatus === undefined ? reason : `HTTP ${lastStatus}${describeAnswer(lastBody ?? '')}`
      const tries = attempt === 1 ? 'the only attempt' : `all ${attempt} attempts`
      throw fail(`${detail} on ${tries}`, attempt, {
        ...(lastStatus === undefined ? {} : { statusCode: lastStatus }),
        ...(lastBody === undefined ? {} : { body: lastBody }),
        cause: lastCause,
      })
    }
    const delayMs = backoffDelayMs(attempt - 1, settings)
    settings.onRetry?.({ eventType, attempt, delayMs, reason })
    await new Promise((resolve) => setTimeout(resolve, delayMs))
  }
}

function parseStoredEvent(text: string): AgentLightningEvent | null {
  try {
    const parsed: unknown = JSON.parse(text)
    return isPlainObject(parsed) ? (parsed as unknown as AgentLightningEvent) : null
  } catch {
    return null
  }
}

/** `: <detail>` from a FastAPI `{"detail": …}` body, or the start of any other body. */
function describeAnswer(text: string): string {
  if (text === '') return ''
  try {
    const parsed: unknown = JSON.parse(text)
    if (isPlainObject(parsed) && parsed.detail !== undefined) {
      const detail = typeof parsed.detail === 'string' ? parsed.detail : JSON.stringify(parsed.detail)
      return `: ${detail.length > 300 ? `${detail.slice(0, 300)}…` : detail}`
    }
  } catch {
    // not JSON: show the text itself
  }
  return `: ${text.length > 300 ? `${text.slice(0, 300)}…` : text}`
}

function hintFor(status: number): string {
  if (status === 401) return ' (AGL_KEY does not match the gateway key)'
  if (status === 404)
    return ' (the gateway does not know this rollout: deleted, or AGL_EVENT_URL points elsewhere)'
  return ''
}

function describeConnectionError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `timed out after ${timeoutMs} ms`
  }
  const cause =
    error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined
  const code = typeof cause?.code === 'string' ? cause.code : undefined
  const message = error instanceof Error ? error.message : String(error)
  return `connection error: ${code ?? (typeof cause?.message === 'string' ? cause.message : message)}`
}
