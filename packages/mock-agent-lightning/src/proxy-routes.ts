import type { ServerResponse } from 'node:http'
import { isPlainObject } from '@vllm-tito/spec'
import { HttpError, pythonTruthy, sendJson, UnhandledServerError } from './fastapi-responses'
import { sendUpstreamWithRetries } from './forward-upstream'
import { type Route, validateBody } from './gateway-router'
import type { ModelServer } from './gateway-schemas'
import { pauseRequest } from './gateway-schemas'
import type { GatewayState } from './gateway-state'
import type { GatewaySettings } from './mock-agent-lightning-options'

/** The two upstream paths the proxy forwards; anything else is a 404. */
const UPSTREAM_PATHS = new Set(['chat/completions', 'completions'])

/**
 * The LLM proxy (`agentlightning/server/routes/proxy.py` and `server/proxy.py`): checks mode, path and
 * rollout, rewrites the body, refuses streaming, forwards with retries, stores a `model_request` event and
 * passes the upstream body back with the upstream status.
 */
export const proxyRoutes: Route[] = [
  {
    method: 'POST',
    path: '/proxy/rollout/{rollout_id}/attempt/{attempt_id}/mode/{mode}/openai/v1/{upstream_path:path}',
    bodyModel: false,
    auth: true,
    handle: async ({ state, settings, params, rawBody, response }) => {
      const rolloutId = params.rollout_id!
      const attemptId = params.attempt_id!
      const mode = params.mode!
      const upstreamPath = params.upstream_path!
      if (mode !== 'train' && mode !== 'val') throw new HttpError(404, `Unsupported proxy mode: ${mode}`)
      if (!UPSTREAM_PATHS.has(upstreamPath))
        throw new HttpError(404, `Unsupported upstream path: ${upstreamPath}`)
      if (!state.rollouts.has(rolloutId)) throw new HttpError(404, `Rollout not found: ${rolloutId}`)
      let body: unknown = {}
      if (rawBody.length > 0) {
        try {
          body = JSON.parse(rawBody.toString('utf8'))
        } catch {
          throw new HttpError(400, 'Invalid JSON in request body')
        }
      }
      const server = state.selectServer(settings.modelName, rolloutId)
      if (server === undefined)
        throw new HttpError(503, `No servers available for model '${settings.modelName}'`)
      // `{**body, …}` raises a TypeError for a JSON value that is not an object
      if (!isPlainObject(body)) throw new UnhandledServerError('the request body is not a JSON object')
      const prepared = prepareBody(body, mode, settings)
      await forward({ state, settings, server, body: prepared, upstreamPath, rolloutId, attemptId, response })
    },
  },
]

/**
 * `ProxyRouter.prepare_body`: the configured model name, the mode's temperature and `return_token_ids: true`
 * replace whatever the agent sent; train mode also gets `logprobs: true` when configured. The flag is sent
 * as it is to `/completions` too, where vLLM's `logprobs` is an integer (pydantic's lax mode reads `true`
 * as 1).
 */
export function prepareBody(
  body: Record<string, unknown>,
  mode: 'train' | 'val',
  settings: GatewaySettings,
): Record<string, unknown> {
  const temperature = mode === 'train' ? settings.trainTemperature : settings.valTemperature
  const prepared: Record<string, unknown> = {
    ...body,
    model: settings.modelName,
    temperature,
    return_token_ids: true,
  }
  if (mode === 'train' && settings.includeLogProbs) prepared.logprobs = true
  return prepared
}

/** One proxied call, ready to forward. */
interface ProxiedCall {
  state: GatewayState
  settings: GatewaySettings
  server: ModelServer
  body: Record<string, unknown>
  upstreamPath: string
  rolloutId: string
  attemptId: string
  response: ServerResponse
}

/** `forward_request`: the pause check, the streaming refusal, the upstream call and the event. */
async function forward(call: ProxiedCall): Promise<void> {
  const { state, settings, server, body, upstreamPath, rolloutId, attemptId, response } = call
  const pause = state.pause
  if (pause.paused) {
    const text = `{"error": "gateway paused", "reason": ${asciiJson(pause.reason)}}`
    response.writeHead(429, {
      'retry-after': String(pause.retryAfterSeconds),
      'x-agl-paused': 'true',
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    })
    response.end(text)
    return
  }
  pause.inflight += 1
  try {
    if (pythonTruthy(body.stream ?? false)) throw new HttpError(400, 'Streaming responses are not supported')
    const url = `${server.endpoint.replace(/\/+$/, '')}/${upstreamPath}`
    const startedAt = performance.now()
    const answer = await sendUpstreamWithRetries(url, body, settings.upstream)
    const latencyMs = performance.now() - startedAt
    if (!isPlainObject(answer.body)) throw new UnhandledServerError('the upstream body is not a JSON object')
    state.recordEvent(rolloutId, attemptId, 'model_request', {
      model: server.model,
      model_version: server.version,
      request: body,
      response: answer.body,
      server: { model: server.model, endpoint: server.endpoint, version: server.version },
      latency_ms: latencyMs,
      http_status: answer.status,
      status: answer.status < 400 ? 'ok' : 'error',
      retry_count: answer.retryCount,
      usage: isPlainObject(answer.body.usage) ? answer.body.usage : null,
      finish_reason: finishReasonOf(answer.body),
    })
    sendJson(response, answer.status, answer.body)
  } finally {
    pause.inflight = Math.max(0, pause.inflight - 1)
  }
}

/** `_extract_finish_reason`: `choices[0].finish_reason` when it is a non-empty string. */
function finishReasonOf(body: Record<string, unknown>): string | null {
  const choices = body.choices
  if (!Array.isArray(choices) || choices.length === 0 || !isPlainObject(choices[0])) return null
  const reason = choices[0].finish_reason
  return typeof reason === 'string' && reason !== '' ? reason : null
}

/** `json.dumps` of a string or None with Python's default `ensure_ascii=True`. */
function asciiJson(value: string | null): string {
  return JSON.stringify(value).replace(
    /[\u0080-\uffff]/g,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}

/** Pause and drain management (`management_router`, prefix `/proxy`). */
export const proxyManagementRoutes: Route[] = [
  {
    method: 'POST',
    path: '/proxy/pause',
    bodyModel: true,
    auth: true,
    handle: ({ state, body, response }) => {
      const request = validateBody(body, pauseRequest)
      state.pause.paused = true
      state.pause.retryAfterSeconds = request.retry_after_seconds as number
      state.pause.reason = request.reason as string | null
      sendJson(response, 200, pauseStateBody(state))
    },
  },
  {
    method: 'POST',
    path: '/proxy/resume',
    bodyModel: false,
    auth: true,
    handle: ({ state, response }) => {
      state.pause.paused = false
      state.pause.reason = null
      sendJson(response, 200, pauseStateBody(state))
    },
  },
  {
    method: 'GET',
    path: '/proxy/state',
    bodyModel: false,
    auth: true,
    handle: ({ state, response }) => sendJson(response, 200, pauseStateBody(state)),
  },
]

function pauseStateBody(state: GatewayState): Record<string, unknown> {
  const { paused, retryAfterSeconds, reason, inflight } = state.pause
  return { paused, retry_after_seconds: retryAfterSeconds, reason, inflight }
}
