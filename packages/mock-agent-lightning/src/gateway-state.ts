import { createHash } from 'node:crypto'
import { HttpError } from './fastapi-responses'
import type { ModelServer, Rollout, StoredEvent } from './gateway-schemas'

/** The proxy's pause switch (`ProxyPauseState`). */
export interface PauseState {
  paused: boolean
  retryAfterSeconds: number
  reason: string | null
  inflight: number
}

/**
 * The gateway's in-memory store (`agentlightning/server/store.py`): rollouts, events per rollout and
 * attempt, model servers per model name and endpoint, and the completion-ordered list of terminal rollouts.
 */
export class GatewayState {
  readonly rollouts = new Map<string, Rollout>()
  readonly events = new Map<string, Map<string, StoredEvent[]>>()
  readonly models = new Map<string, Map<string, ModelServer>>()
  readonly terminalOrder: string[] = []
  readonly pause: PauseState = { paused: false, retryAfterSeconds: 5, reason: null, inflight: 0 }

  /** The rollout, or the gateway's 404 `Rollout not found: <id>`. */
  rollout(rolloutId: string): Rollout {
    const rollout = this.rollouts.get(rolloutId)
    if (rollout === undefined) throw rolloutNotFound(rolloutId)
    return rollout
  }

  /** Appends one event to a rollout attempt (`record_event`); 404 for an unknown rollout. */
  recordEvent(
    rolloutId: string,
    attemptId: string,
    eventType: string,
    data: Record<string, unknown>,
  ): StoredEvent {
    if (!this.rollouts.has(rolloutId)) throw rolloutNotFound(rolloutId)
    const event: StoredEvent = {
      event_type: eventType,
      rollout_id: rolloutId,
      attempt_id: attemptId,
      timestamp: Date.now() / 1000,
      data,
    }
    let byAttempt = this.events.get(rolloutId)
    if (byAttempt === undefined) {
      byAttempt = new Map()
      this.events.set(rolloutId, byAttempt)
    }
    const list = byAttempt.get(attemptId) ?? []
    list.push(event)
    byAttempt.set(attemptId, list)
    return event
  }

  /**
   * The events the query routes read (`_query_events`): only the rollout's last attempt (`"0"` until the
   * controller sets `last_attempt_id`), optionally one event type.
   */
  queryEvents(rolloutId: string, eventType: string | undefined): StoredEvent[] {
    const rollout = this.rollout(rolloutId)
    const attemptId = rollout.status.last_attempt_id || '0'
    const events = this.events.get(rolloutId)?.get(attemptId) ?? []
    return eventType === undefined ? events : events.filter((event) => event.event_type === eventType)
  }

  /** The attempt ids with events, ordered by their first event's time (`_list_attempts`). */
  attempts(rolloutId: string): string[] {
    this.rollout(rolloutId)
    const byAttempt = this.events.get(rolloutId) ?? new Map<string, StoredEvent[]>()
    const firstTime = (attemptId: string) =>
      byAttempt.get(attemptId)?.[0]?.timestamp ?? Number.POSITIVE_INFINITY
    return [...byAttempt.keys()].sort((left, right) => firstTime(left) - firstTime(right))
  }

  /** Upserts a model server by model name and endpoint. */
  registerModel(server: ModelServer): void {
    let byEndpoint = this.models.get(server.model)
    if (byEndpoint === undefined) {
      byEndpoint = new Map()
      this.models.set(server.model, byEndpoint)
    }
    byEndpoint.set(server.endpoint, server)
  }

  /**
   * The server for a rollout (`ProxyRouter.select_server`): endpoints sorted, then the first 8 bytes of
   * SHA-256(rollout id) as a big-endian integer modulo their number, so each rollout sticks to one server.
   */
  selectServer(modelName: string, rolloutId: string): ModelServer | undefined {
    const byEndpoint = this.models.get(modelName)
    if (byEndpoint === undefined || byEndpoint.size === 0) return undefined
    const pool = [...byEndpoint.keys()].sort(compareCodePoints).map((endpoint) => byEndpoint.get(endpoint)!)
    const digest = createHash('sha256').update(rolloutId, 'utf8').digest()
    const index = Number(digest.readBigUInt64BE(0) % BigInt(pool.length))
    return pool[index]
  }
}

/** The gateway's 404 for an unknown rollout. */
export function rolloutNotFound(rolloutId: string): HttpError {
  return new HttpError(404, `Rollout not found: ${rolloutId}`)
}

/** Python's `sorted()` order of strings: by code point, not by UTF-16 unit. */
function compareCodePoints(left: string, right: string): number {
  const a = [...left]
  const b = [...right]
  for (let index = 0; index < Math.min(a.length, b.length); index += 1) {
    const difference = a[index]!.codePointAt(0)! - b[index]!.codePointAt(0)!
    if (difference !== 0) return difference
  }
  return a.length - b.length
}
