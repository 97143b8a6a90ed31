import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { closeHttp, listenHttp } from '@vllm-tito/spec/internal'
import { describeError } from '../classify-failure'
import { ConcurrencyLimiter } from '../concurrency-limiter'
import { MAX_TIMEOUT_MS } from '../run-options'
import { handleRollouts, type ServiceState } from './handle-rollouts'
import { sendError, sendJson } from './http-json'
import { type RolloutServiceOptions, readServiceOptions } from './service-options'

/** A running rollout service. */
export interface RolloutService {
  /** `http://<host>:<port>`. */
  url: string
  /** Rollouts running right now. */
  readonly running: number
  /** Rollouts admitted and not yet answered (running or waiting for a slot). */
  readonly pending: number
  /**
   * Stops taking requests (readiness turns 503, new requests get 503 `draining`, still on the open port), waits
   * up to `graceMs` for the open ones to finish, then cancels the rest and closes every connection. Idempotent.
   */
  close(options?: { graceMs?: number }): Promise<void>
}

/**
 * Starts the rollout service: an HTTP server a trainer calls with a task, sampling parameters, the vLLM server
 * it currently serves and a group size, answered with the group's rows in that trainer's format. Endpoints:
 * `POST /v1/rollouts`, `GET /health` (liveness), `GET /ready` (readiness: 503 when saturated or draining).
 * The HTTP API is specified in `docs/rollout-service.md`.
 *
 * @throws InvalidOptionError (the promise rejects) naming a bad option, before anything listens.
 */
export async function startRolloutService(options: RolloutServiceOptions): Promise<RolloutService> {
  const settings = readServiceOptions(options)
  const closing = new AbortController()
  const state: ServiceState = {
    settings,
    limiter: new ConcurrencyLimiter(settings.concurrency),
    pending: 0,
    draining: false,
    closing: closing.signal,
  }
  const open = new Set<Promise<void>>()
  const server = createServer((request, response) => {
    const handled = route(state, request, response).catch((error: unknown) => {
      settings.log(`${request.method} ${request.url} 500: ${describeError(error)}`)
      sendError(response, 500, { type: 'internal', message: describeError(error) })
    })
    open.add(handled)
    handled.finally(() => open.delete(handled))
  })
  const url = await listenHttp(server, settings.port, settings.host)
  let closed: Promise<void> | undefined
  return {
    url,
    get running() {
      return state.limiter.active
    },
    get pending() {
      return state.pending
    },
    close({ graceMs = 30_000 } = {}) {
      closed ??= (async () => {
        // still listening while it drains: a trainer that connects now gets 503 with Retry-After and tries
        // another replica, instead of a refused connection
        state.draining = true
        // a longer timer would fire at once
        const grace = new Promise<void>((resolve) =>
          setTimeout(resolve, Math.min(graceMs, MAX_TIMEOUT_MS)).unref(),
        )
        await Promise.race([untilIdle(open), grace])
        closing.abort(new Error('the service is shutting down'))
        await untilIdle(open)
        await closeHttp(server)
      })()
      return closed
    },
  }
}

/** Resolves once no request is open (requests that arrive meanwhile are waited for too). */
async function untilIdle(open: Set<Promise<void>>): Promise<void> {
  while (open.size > 0) await Promise.allSettled([...open])
}

async function route(state: ServiceState, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = (request.url ?? '/').split('?')[0]
  const method = request.method ?? 'GET'
  const { settings } = state
  if (path === '/health') {
    if (method !== 'GET') return notAllowed(response, 'GET')
    return sendJson(response, 200, { status: 'ok' })
  }
  if (path === '/ready') {
    if (method !== 'GET') return notAllowed(response, 'GET')
    const status = state.draining ? 'draining' : state.pending >= settings.maxPending ? 'saturated' : 'ready'
    return sendJson(response, status === 'ready' ? 200 : 503, {
      status,
      running: state.limiter.active,
      pending: state.pending,
      max_pending: settings.maxPending,
      concurrency: settings.concurrency,
    })
  }
  if (path === '/v1/rollouts') {
    if (method !== 'POST') return notAllowed(response, 'POST')
    if (state.draining) {
      return sendError(response, 503, {
        type: 'draining',
        message: 'the service is shutting down; send the request to another replica',
        retry_after_seconds: settings.retryAfterSeconds,
      })
    }
    return handleRollouts(state, request, response)
  }
  sendError(response, 404, {
    type: 'not_found',
    message: `no route ${method} ${path}; see docs/rollout-service.md`,
  })
}

function notAllowed(response: ServerResponse, allowed: string): void {
  response.setHeader('allow', allowed)
  sendError(response, 405, { type: 'method_not_allowed', message: `use ${allowed}` })
}
