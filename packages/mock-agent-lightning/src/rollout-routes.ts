import { randomUUID } from 'node:crypto'
import { isPlainObject } from '@vllm-tito/spec'
import {
  HttpError,
  RequestValidationError,
  sendEmpty,
  sendJson,
  UnhandledServerError,
} from './fastapi-responses'
import { queryValue, type Route, validateBody, validated } from './gateway-router'
import {
  defaultRolloutConfig,
  type Rollout,
  type RolloutConfig,
  type RolloutState,
  rolloutCreateList,
  rolloutMetadata,
  rolloutPatch,
  stateList,
  VALID_TRANSITIONS,
} from './gateway-schemas'
import { INVALID, int, providedFields, type ValidationIssue } from './pydantic-validation'

/** The rollout API (`agentlightning/server/routes/rollouts.py`), under `/api`. */
export const rolloutRoutes: Route[] = [
  {
    method: 'POST',
    path: '/api/rollouts',
    bodyModel: true,
    auth: true,
    handle: ({ state, body, response }) => {
      const requests = validateBody(body, rolloutCreateList)
      const results: Rollout[] = []
      for (const item of requests) {
        const existing = item.rollout_id === null ? undefined : state.rollouts.get(item.rollout_id)
        if (existing !== undefined) {
          results.push(existing)
          continue
        }
        const now = Date.now() / 1000
        const rolloutId = item.rollout_id || randomUUID().replaceAll('-', '')
        const rollout: Rollout = {
          rollout_id: rolloutId,
          input: item.input,
          is_train: item.is_train,
          config: (item.config as RolloutConfig | null) ?? defaultRolloutConfig(),
          metadata: metadataOf(item.metadata),
          status: {
            state: 'queuing',
            k8s_job_name: null,
            last_attempt_id: null,
            error_message: null,
            version: 1,
            created_at: now,
            updated_at: now,
          },
        }
        state.rollouts.set(rolloutId, rollout)
        state.events.set(rolloutId, new Map())
        results.push(rollout)
      }
      sendJson(response, 201, results)
    },
  },
  {
    method: 'GET',
    path: '/api/rollouts',
    bodyModel: false,
    auth: true,
    handle: ({ state, query, response }) => {
      const states = query.getAll('state_in')
      if (states.length === 0) {
        throw new RequestValidationError([
          { type: 'missing', loc: ['query', 'state_in'], msg: 'Field required', input: null },
        ])
      }
      const wanted = new Set<RolloutState>(validated(states, ['query', 'state_in'], stateList))
      const limit = queryValue(query, 'limit', int, 500)
      const matches = [...state.rollouts.values()].filter((rollout) => wanted.has(rollout.status.state))
      sendJson(response, 200, matches.slice(0, limit))
    },
  },
  {
    method: 'GET',
    path: '/api/rollouts/terminal',
    bodyModel: false,
    auth: true,
    handle: ({ state, query, response }) => {
      const after = Math.max(0, queryValue(query, 'after', int, 0))
      const limit = Math.max(1, queryValue(query, 'limit', int, 1000))
      const slice = state.terminalOrder.slice(after, after + limit)
      const items = slice.flatMap((rolloutId) => {
        const rollout = state.rollouts.get(rolloutId)
        if (rollout === undefined) return []
        return [
          {
            rollout_id: rolloutId,
            state: rollout.status.state,
            data_id: dataIdOf(rollout),
            is_train: rollout.is_train,
          },
        ]
      })
      sendJson(response, 200, {
        items,
        next_after: after + slice.length,
        total_terminal: state.terminalOrder.length,
      })
    },
  },
  {
    method: 'GET',
    path: '/api/rollouts/{rollout_id}',
    bodyModel: false,
    auth: true,
    handle: ({ state, params, response }) => {
      const rollout = state.rollout(params.rollout_id!)
      sendJson(response, 200, { rollout, attempts: state.attempts(rollout.rollout_id) })
    },
  },
  {
    method: 'PATCH',
    path: '/api/rollouts/{rollout_id}',
    bodyModel: true,
    auth: true,
    handle: ({ state, params, body, response }) => {
      const patch = validateBody(body, rolloutPatch)
      const rolloutId = params.rollout_id!
      const rollout = state.rollout(rolloutId)
      const status = patch.status as Record<string, unknown> | null
      const updates: Record<string, unknown> = {}
      if (status !== null) for (const key of providedFields(status)) updates[key] = status[key]
      if (Object.keys(updates).length === 0) {
        sendJson(response, 200, rollout)
        return
      }
      if ('state' in updates) {
        const next = updates.state as RolloutState | null
        if (next === null || !VALID_TRANSITIONS[rollout.status.state].includes(next)) {
          throw new HttpError(
            409,
            `Rollout ${rolloutId}: cannot transition ${rollout.status.state} -> ${next === null ? 'None' : next}`,
          )
        }
      }
      const updated: Rollout = {
        ...rollout,
        status: {
          ...rollout.status,
          ...updates,
          version: rollout.status.version + 1,
          updated_at: Date.now() / 1000,
        },
      }
      state.rollouts.set(rolloutId, updated)
      if ('state' in updates && VALID_TRANSITIONS[updated.status.state].length === 0)
        state.terminalOrder.push(rolloutId)
      sendJson(response, 200, updated)
    },
  },
  {
    method: 'DELETE',
    path: '/api/rollouts/{rollout_id}',
    bodyModel: false,
    auth: true,
    handle: ({ state, params, response }) => {
      state.rollouts.delete(params.rollout_id!)
      state.events.delete(params.rollout_id!)
      sendEmpty(response, 204)
    },
  },
]

/**
 * `_metadata_from_request`: a dict becomes `RolloutMetadata(**dict)` inside the handler, so a dict the
 * model refuses (e.g. `batch_idx: "x"`) raises there, which the real gateway answers with a 500.
 */
function metadataOf(value: unknown): Record<string, unknown> {
  if (value === null) return { batch_idx: null, sample_idx_in_batch: null }
  const issues: ValidationIssue[] = []
  const result = rolloutMetadata(value, [], issues)
  if (result === INVALID) throw new UnhandledServerError('RolloutMetadata(**metadata) failed')
  return result
}

/** `_data_id_of`: the input's `data_id` or `instance_id`, else `""`. */
function dataIdOf(rollout: Rollout): string {
  const input = rollout.input
  if (!isPlainObject(input)) return ''
  const value = input.data_id || input.instance_id || ''
  return typeof value === 'string' ? value : pythonStr(value)
}

/** `str(value)` for a JSON value, as far as the terminal projection needs it. */
function pythonStr(value: unknown): string {
  if (value === true) return 'True'
  if (value === false) return 'False'
  if (value === null) return 'None'
  return typeof value === 'object' ? JSON.stringify(value) : String(value)
}
