import { createServer } from 'node:http'
import { InvalidOptionError } from '@vllm-tito/spec'
import { closeHttp, listenHttp } from '@vllm-tito/spec/internal'
import { eventRoutes, modelRoutes } from './event-and-model-routes'
import { readBody, sendInternalServerError, sendJson } from './fastapi-responses'
import { compileRoutes, dispatch, type Route } from './gateway-router'
import { DEFAULT_ATTEMPT_ID } from './gateway-schemas'
import { GatewayState } from './gateway-state'
import {
  type GatewayRequestLog,
  type MockAgentLightningOptions,
  type MockAgentLightningServer,
  readGatewaySettings,
} from './mock-agent-lightning-options'
import { proxyManagementRoutes, proxyRoutes } from './proxy-routes'
import { rolloutRoutes } from './rollout-routes'

const healthRoute: Route = {
  method: 'GET',
  path: '/healthz',
  bodyModel: false,
  auth: false,
  handle: ({ response }) => sendJson(response, 200, { status: 'ok' }),
}

// the order `create_app` includes its routers in, which decides which route matches first
const routes = compileRoutes([
  healthRoute,
  ...rolloutRoutes,
  ...eventRoutes,
  ...modelRoutes,
  ...proxyRoutes,
  ...proxyManagementRoutes,
])

/**
 * Starts a stand-in of the Agent Lightning 1.0 gateway (`agl-server`) on loopback: the rollout, event and
 * model APIs, the per-rollout OpenAI proxy with its request rewriting and `model_request` events, the
 * triplet view, and pause/resume — with the gateway's status codes and `{"detail": …}` texts.
 *
 * @throws InvalidOptionError for a bad option.
 */
export async function startMockAgentLightning(
  options?: MockAgentLightningOptions,
): Promise<MockAgentLightningServer> {
  const settings = readGatewaySettings(options)
  const state = new GatewayState()
  for (const server of settings.models) state.registerModel(server)
  const requests: GatewayRequestLog[] = []
  const server = createServer((request, response) => {
    readBody(request)
      .then((rawBody) => {
        requests.push({
          method: request.method ?? 'GET',
          url: request.url ?? '/',
          headers: { ...request.headers },
          body: rawBody.toString('utf8'),
        })
        return dispatch(routes, state, settings, request, response, rawBody)
      })
      .catch((error: unknown) => {
        // a fault of the stand-in itself, reported like uvicorn reports an exception in the app
        process.stderr.write(
          `mock-agent-lightning: exception in the app: ${(error as Error)?.stack ?? String(error)}\n`,
        )
        if (!response.headersSent) sendInternalServerError(response)
        else response.destroy()
      })
  })
  const url = await listenHttp(server, settings.port, settings.host)
  let closed: Promise<void> | undefined
  return {
    url,
    key: settings.key,
    requests,
    agentEnvironment(rolloutId) {
      const rollout = state.rollouts.get(rolloutId)
      if (rollout === undefined) {
        throw new InvalidOptionError(
          'agentEnvironment',
          'rolloutId',
          `agentEnvironment: no rollout ${JSON.stringify(rolloutId)}; create it with POST /api/rollouts first`,
        )
      }
      const mode = rollout.is_train ? 'train' : 'val'
      return {
        AGL_OPENAI_BASE_URL: `${url}/proxy/rollout/${rolloutId}/attempt/${DEFAULT_ATTEMPT_ID}/mode/${mode}/openai/v1`,
        AGL_EVENT_URL: `${url}/api/rollouts/${rolloutId}/attempt/${DEFAULT_ATTEMPT_ID}/events`,
        AGL_KEY: settings.key,
      }
    },
    rollouts: () => structuredClone([...state.rollouts.values()]),
    events: (rolloutId) => structuredClone([...(state.events.get(rolloutId)?.values() ?? [])].flat()),
    models: () =>
      structuredClone([...state.models.values()].flatMap((byEndpoint) => [...byEndpoint.values()])),
    close() {
      closed ??= closeHttp(server)
      return closed
    },
  }
}
