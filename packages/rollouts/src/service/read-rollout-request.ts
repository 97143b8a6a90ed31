import { describeValue, InvalidOptionError, isPlainObject, OptionReader } from '@vllm-tito/spec'
import type { RolloutTask } from '../rollout-types'
import { isTaskId, MAX_TIMEOUT_MS } from '../run-options'
import { TRAINER_FORMATS, type TrainerFormat, type TrainerIds } from '../trainer-rows'

/** Where request errors come from, for their messages. */
const WHERE = 'POST /v1/rollouts'

/** The request fields the service knows. */
const FIELDS = [
  'task',
  'tasks',
  'group_size',
  'base_url',
  'model',
  'sampling_params',
  'format',
  'export_options',
  'rollout_ids',
  'ids',
  'stream',
  'timeout_seconds',
]

/**
 * The vLLM chat request fields a trainer may set for every model call. Anything else is refused, so a trainer's
 * own name for a field (SGLang's `max_new_tokens`) is a 400 naming it, not a silently ignored setting.
 */
export const SAMPLING_FIELDS = [
  'temperature',
  'top_p',
  'top_k',
  'min_p',
  'max_tokens',
  'max_completion_tokens',
  'min_tokens',
  'repetition_penalty',
  'presence_penalty',
  'frequency_penalty',
  'seed',
  'stop',
  'stop_token_ids',
  'ignore_eos',
  'logprobs',
  'top_logprobs',
  'skip_special_tokens',
  'spaces_between_special_tokens',
  'include_stop_str_in_output',
  'chat_template_kwargs',
]

/** A checked `POST /v1/rollouts` body. */
export interface RolloutRequest {
  /** The tasks (`task` as a list of one). */
  tasks: RolloutTask[]
  /** Rollouts per task. */
  groupSize: number
  /** `base_url`, if sent. */
  baseUrl: string | undefined
  /** `model`, if sent. */
  modelId: string | undefined
  /** `sampling_params`, checked against the known fields. */
  samplingParams: Record<string, unknown>
  /** The trainer. */
  format: TrainerFormat
  /** `export_options`, passed to the export. */
  exportOptions: Record<string, unknown>
  /** One id per rollout, task-major, or `null` for the default ids. */
  rolloutIds: Array<string | number> | null
  /** Which ids the rows carry. */
  ids: TrainerIds
  /** `stream`, if sent. */
  stream: boolean | undefined
  /** `timeout_seconds` in ms, if sent. */
  timeoutMs: number | undefined
}

/**
 * Checks a request body (the HTTP API in `docs/rollout-service.md`).
 *
 * @throws InvalidOptionError whose `option` is the JSON path of the bad field (`group_size`,
 *   `tasks[1].question`, `sampling_params.max_new_tokens`), for the 400 body.
 */
export function readRolloutRequest(body: unknown): RolloutRequest {
  if (!isPlainObject(body))
    throw new InvalidOptionError(
      WHERE,
      '(body)',
      `the body must be a JSON object, got ${describeValue(body)}`,
    )
  const read = new OptionReader(WHERE, body).rejectUnknown(FIELDS)
  const tasks = readTasks(read)
  const groupSize = read.integer('group_size', { minimum: 1, maximum: 100_000 }) ?? 1
  const format = read.oneOf('format', TRAINER_FORMATS, { required: true })
  const ids = read.oneOf('ids', ['given', 'positions'] as const) ?? 'given'
  const rolloutIds = readRolloutIds(read, tasks.length * groupSize)
  if (format === 'slime' && ids === 'given') requireIntegerIds(tasks, rolloutIds)
  const timeoutSeconds = read.positiveNumber('timeout_seconds')
  if (timeoutSeconds !== undefined && timeoutSeconds * 1000 > MAX_TIMEOUT_MS) {
    read.fail(
      'timeout_seconds',
      `option \`timeout_seconds\` must be a number greater than 0 and at most ${MAX_TIMEOUT_MS / 1000}, got ${timeoutSeconds}`,
    )
  }
  return {
    tasks,
    groupSize,
    baseUrl: read.string('base_url', { nonEmpty: true }),
    modelId: read.string('model', { nonEmpty: true }),
    samplingParams: readNested('sampling_params', read.object('sampling_params') ?? {}, SAMPLING_FIELDS),
    format,
    exportOptions: read.object('export_options') ?? {},
    rolloutIds,
    ids,
    stream: read.boolean('stream'),
    // up, so that a sub-millisecond limit is 1 ms rather than an invalid 0
    timeoutMs: timeoutSeconds === undefined ? undefined : Math.ceil(timeoutSeconds * 1000),
  }
}

function readTasks(read: OptionReader): RolloutTask[] {
  const single = read.raw('task')
  const many = read.raw('tasks')
  if ((single === undefined) === (many === undefined)) {
    read.fail('task', 'give exactly one of `task` (one task) and `tasks` (a list of tasks)')
  }
  if (single !== undefined) return [readTask('task', single)]
  if (!Array.isArray(many) || many.length === 0)
    read.fail('tasks', '`tasks` must be a non-empty list of tasks')
  const tasks = many.map((task, index) => readTask(`tasks[${index}]`, task))
  const seen = new Map<string, number>()
  for (const [index, task] of tasks.entries()) {
    const earlier = seen.get(String(task.id))
    if (earlier !== undefined)
      read.fail(`tasks[${index}].id`, `task id ${JSON.stringify(task.id)} is also tasks[${earlier}]'s`)
    seen.set(String(task.id), index)
  }
  return tasks
}

function readTask(path: string, value: unknown): RolloutTask {
  if (!isPlainObject(value))
    throw new InvalidOptionError(
      WHERE,
      path,
      `\`${path}\` must be an object with id and question, got ${describeValue(value)}`,
    )
  if (!isTaskId(value.id)) {
    throw new InvalidOptionError(
      WHERE,
      `${path}.id`,
      `\`${path}.id\` must be a non-empty string or an integer >= 0, got ${describeValue(value.id)}`,
    )
  }
  if (typeof value.question !== 'string' || value.question.trim() === '') {
    throw new InvalidOptionError(
      WHERE,
      `${path}.question`,
      `\`${path}.question\` must be a non-empty string, got ${describeValue(value.question)}`,
    )
  }
  return value as RolloutTask
}

function readRolloutIds(read: OptionReader, count: number): Array<string | number> | null {
  const ids = read.raw('rollout_ids')
  if (ids === undefined || ids === null) return null
  if (!Array.isArray(ids) || ids.length !== count) {
    read.fail(
      'rollout_ids',
      `\`rollout_ids\` must be a list of ${count} ids (one per rollout, task by task), got ${describeValue(ids)}`,
    )
  }
  const seen = new Set<string>()
  for (const [index, id] of ids.entries()) {
    if (!isTaskId(id))
      read.fail(
        `rollout_ids[${index}]`,
        `\`rollout_ids[${index}]\` must be a non-empty string or an integer >= 0, got ${describeValue(id)}`,
      )
    if (seen.has(String(id)))
      read.fail(`rollout_ids[${index}]`, `rollout id ${JSON.stringify(id)} appears twice`)
    seen.add(String(id))
  }
  return ids as Array<string | number>
}

/** slime numbers prompt groups and samples: `group_index` and `index` are integers. */
function requireIntegerIds(tasks: readonly RolloutTask[], rolloutIds: Array<string | number> | null): void {
  for (const [index, task] of tasks.entries()) {
    if (typeof task.id !== 'number') {
      const path = tasks.length === 1 ? 'task.id' : `tasks[${index}].id`
      throw new InvalidOptionError(
        WHERE,
        path,
        `slime needs an integer \`${path}\` (its group_index), got ${describeValue(task.id)}; or send "ids": "positions"`,
      )
    }
  }
  if (rolloutIds === null) return
  const bad = rolloutIds.findIndex((id) => typeof id !== 'number')
  if (bad !== -1) {
    throw new InvalidOptionError(
      WHERE,
      `rollout_ids[${bad}]`,
      `slime needs integer rollout ids (its Sample.index), got ${describeValue(rolloutIds[bad])}`,
    )
  }
}

function readNested(
  path: string,
  value: Record<string, unknown>,
  known: readonly string[],
): Record<string, unknown> {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new InvalidOptionError(
        WHERE,
        `${path}.${key}`,
        `\`${path}.${key}\` is not a vLLM chat sampling field; known: ${known.join(', ')}`,
        known,
      )
    }
  }
  return value
}
