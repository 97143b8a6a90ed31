import { sendJson } from './fastapi-responses'
import { type Route, validateBody } from './gateway-router'
import { eventCreate, modelServerList } from './gateway-schemas'
import { tripletView } from './triplet-view'

/** The event API (`agentlightning/server/routes/events.py`), under `/api`. */
export const eventRoutes: Route[] = [
  {
    method: 'POST',
    path: '/api/rollouts/{rollout_id}/attempt/{attempt_id}/events',
    bodyModel: true,
    auth: true,
    handle: ({ state, params, body, response }) => {
      const event = validateBody(body, eventCreate)
      const stored = state.recordEvent(
        params.rollout_id!,
        params.attempt_id!,
        event.event_type,
        event.data as Record<string, unknown>,
      )
      sendJson(response, 200, stored)
    },
  },
  {
    method: 'GET',
    path: '/api/rollouts/{rollout_id}/events',
    bodyModel: false,
    auth: true,
    handle: ({ state, params, query, response }) => {
      const eventType = query.getAll('event_type').at(-1)
      const events = state.queryEvents(params.rollout_id!, eventType)
      sendJson(response, 200, query.getAll('format').at(-1) === 'triplet' ? tripletView(events) : events)
    },
  },
]

/** Model server registration (`agentlightning/server/routes/models.py`), under `/api`. */
export const modelRoutes: Route[] = [
  {
    method: 'POST',
    path: '/api/models',
    bodyModel: true,
    auth: true,
    handle: ({ state, body, response }) => {
      const servers = validateBody(body, modelServerList)
      for (const server of servers) state.registerModel(server)
      sendJson(response, 201, servers)
    },
  },
  {
    method: 'DELETE',
    path: '/api/models',
    bodyModel: false,
    auth: true,
    handle: ({ state, response }) => {
      state.models.clear()
      sendJson(response, 200, { status: 'ok' })
    },
  },
]
