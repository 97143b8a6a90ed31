import { isPlainObject } from '@vllm-tito/spec'
import { pythonTruthy as truthy, UnhandledServerError } from './fastapi-responses'
import type { StoredEvent } from './gateway-schemas'

/**
 * The gateway's `?format=triplet` view (`agentlightning/server/routes/events.py`): `model_request` events
 * trimmed to prompt ids, response ids, log-probs and server; `reward` events to `value` (+ `source`,
 * `reason`); other events unchanged; then `model_request` events de-duplicated by prompt ids, the last kept.
 * Where the Python code would raise on a malformed hand-posted event, this throws
 * {@link UnhandledServerError} (the gateway answers 500).
 */
export function tripletView(events: readonly StoredEvent[]): StoredEvent[] {
  const trimmed = events.map((event) => {
    if (event.event_type === 'model_request') return { ...event, data: trimModelRequest(event.data) }
    if (event.event_type === 'reward') return { ...event, data: trimReward(event.data) }
    return event
  })
  return dedupeByPromptIds(trimmed)
}

/** `_trim_model_request`: the ids from a non-streaming response, or from the legacy list of chunks. */
export function trimModelRequest(data: Record<string, unknown>): Record<string, unknown> {
  const response = data.response
  let promptTokenIds: unknown = []
  let responseTokenIds: unknown = []
  let responseLogProbs: number[] | null = null
  if (isPlainObject(response)) {
    promptTokenIds = getOr(response, 'prompt_token_ids', [])
    const choices = getOr(response, 'choices', [])
    if (truthy(choices)) {
      const first = firstItem(choices)
      if (!truthy(promptTokenIds)) promptTokenIds = getOr(first, 'prompt_token_ids', [])
      responseTokenIds = getOr(first, 'token_ids', [])
      responseLogProbs = extractChoiceLogProbs(first as Record<string, unknown>)
    }
  } else if (Array.isArray(response)) {
    const collected: unknown[] = []
    for (const chunk of response) {
      if (!isPlainObject(chunk)) throw new UnhandledServerError('chunk.get on a non-dict')
      if (!truthy(promptTokenIds) && truthy(chunk.prompt_token_ids)) promptTokenIds = chunk.prompt_token_ids
      const choices = getOr(chunk, 'choices', [])
      if (truthy(choices)) {
        const ids = getOr(firstItem(choices), 'token_ids', undefined)
        if (truthy(ids)) collected.push(...pythonIterate(ids))
      }
    }
    responseTokenIds = collected
  }
  const server = Object.hasOwn(data, 'server') ? data.server : {}
  if (!isPlainObject(server)) throw new UnhandledServerError('server.get on a non-dict')
  const trimmed: Record<string, unknown> = {
    prompt_token_ids: promptTokenIds,
    response_token_ids: responseTokenIds,
    response_log_probs: responseLogProbs,
    server: { model: server.model ?? null, version: server.version ?? null },
  }
  for (const key of ['http_status', 'status']) if (Object.hasOwn(data, key)) trimmed[key] = data[key]
  if (isPlainObject(response) && Object.hasOwn(response, 'error')) trimmed.error = response.error
  return trimmed
}

/** `_trim_reward`: only `value`, plus `source` and `reason` when present (`message` is dropped). */
export function trimReward(data: Record<string, unknown>): Record<string, unknown> {
  const trimmed: Record<string, unknown> = { value: data.value ?? null }
  for (const key of ['source', 'reason']) if (Object.hasOwn(data, key)) trimmed[key] = data[key]
  return trimmed
}

/**
 * `_extract_choice_log_probs`: chat `logprobs.content[].logprob` or completions `logprobs.token_logprobs`,
 * each converted with Python's `float()`; `null` when the field is missing, of another shape, or any value
 * is not convertible or not finite.
 */
export function extractChoiceLogProbs(choice: Record<string, unknown>): number[] | null {
  const logprobs = choice.logprobs
  if (!isPlainObject(logprobs)) return null
  let raw: unknown[]
  if (Array.isArray(logprobs.content)) {
    raw = []
    for (const item of logprobs.content) {
      if (!isPlainObject(item) || !Object.hasOwn(item, 'logprob')) return null
      raw.push(item.logprob)
    }
  } else if (Array.isArray(logprobs.token_logprobs)) {
    raw = logprobs.token_logprobs
  } else {
    return null
  }
  const values: number[] = []
  for (const entry of raw) {
    const value = pythonFloat(entry)
    if (value === undefined || !Number.isFinite(value)) return null
    values.push(value)
  }
  return values
}

/** `_dedupe_model_requests_by_prompt_token_ids`: keep the last `model_request` per prompt ids. */
export function dedupeByPromptIds(events: readonly StoredEvent[]): StoredEvent[] {
  const lastIndexByPrompt = new Map<string, number>()
  events.forEach((event, index) => {
    if (event.event_type !== 'model_request') return
    const ids = getOr(event.data, 'prompt_token_ids', [])
    lastIndexByPrompt.set(Array.isArray(ids) ? tupleKey(ids) : '[]', index)
  })
  const keep = new Set(lastIndexByPrompt.values())
  return events.filter((event, index) => event.event_type !== 'model_request' || keep.has(index))
}

/**
 * Python's `float(x)` for a JSON value: numbers, booleans (1.0 / 0.0) and numeric strings (with `inf`,
 * `nan`, underscores between digits, surrounding whitespace); `undefined` where it raises.
 */
export function pythonFloat(value: unknown): number | undefined {
  if (typeof value === 'number') return value
  if (typeof value === 'boolean') return value ? 1 : 0
  if (typeof value !== 'string') return undefined
  const text = value.trim().toLowerCase()
  const special = /^([+-]?)(inf|infinity|nan)$/.exec(text)
  if (special)
    return special[2] === 'nan' ? Number.NaN : (special[1] === '-' ? -1 : 1) * Number.POSITIVE_INFINITY
  const digits = String.raw`\d(?:_?\d)*`
  const pattern = new RegExp(`^[+-]?(?:${digits}(?:\\.(?:${digits})?)?|\\.${digits})(?:e[+-]?${digits})?$`)
  return pattern.test(text) ? Number(text.replaceAll('_', '')) : undefined
}

/** A hashable key equal for prompt-id tuples Python would find equal (1 == 1.0 == True). */
function tupleKey(ids: readonly unknown[]): string {
  return JSON.stringify(
    ids.map((id) => {
      if (typeof id === 'boolean') return id ? 1 : 0
      if (id !== null && typeof id === 'object')
        throw new UnhandledServerError('unhashable type in prompt ids')
      return id
    }),
  )
}

/** `mapping.get(key, fallback)`, raising like Python when `mapping` is not a dict. */
function getOr(mapping: unknown, key: string, fallback: unknown): unknown {
  if (!isPlainObject(mapping)) throw new UnhandledServerError(`.get(${key}) on a non-dict`)
  return Object.hasOwn(mapping, key) ? mapping[key] : fallback
}

/** `choices[0]` of a truthy value: a list's first item; anything else raises in Python. */
function firstItem(choices: unknown): unknown {
  if (Array.isArray(choices)) return choices[0]
  throw new UnhandledServerError('choices[0] on a non-list')
}

/** What `list.extend(value)` appends: a list's items or a string's characters; anything else raises. */
function pythonIterate(value: unknown): unknown[] {
  if (Array.isArray(value)) return value
  if (typeof value === 'string') return [...value]
  if (isPlainObject(value)) return Object.keys(value)
  throw new UnhandledServerError('extend() with a non-iterable')
}
