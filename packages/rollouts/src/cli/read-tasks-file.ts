import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { describeValue, isPlainObject } from '@vllm-tito/spec'
import { TaskFileError } from '../errors'
import type { RolloutTask } from '../rollout-types'
import { isTaskId } from '../run-options'

/**
 * Reads a tasks file: one JSON object a line, each with `id` (a non-empty string or an integer >= 0, unique),
 * `question` (a non-empty string) and `answer` (any JSON value but `null`); other fields pass through to the
 * agent and the reward. Blank lines are skipped.
 *
 * @throws TaskFileError naming the file, the line and what is wrong with it (or that the file has no task).
 */
export function readTasksFile(path: string): RolloutTask[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new TaskFileError(
      path,
      0,
      `cannot read the tasks file (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
    )
  }
  return parseTasks(path, text)
}

/** Parses tasks-file text; `path` only names the file in errors. */
export function parseTasks(path: string, text: string): RolloutTask[] {
  const tasks: RolloutTask[] = []
  const lineOfId = new Map<string, number>()
  for (const [index, raw] of text.split('\n').entries()) {
    const line = index + 1
    const source = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    if (source.trim() === '') continue
    const task = parseTask(path, line, source)
    const earlier = lineOfId.get(String(task.id))
    if (earlier !== undefined) {
      throw new TaskFileError(
        path,
        line,
        `id ${JSON.stringify(task.id)} is also the id on line ${earlier}; task ids must be unique`,
      )
    }
    lineOfId.set(String(task.id), line)
    tasks.push(task)
  }
  if (tasks.length === 0)
    throw new TaskFileError(path, 0, 'the tasks file holds no task (one JSON object a line)')
  return tasks
}

function parseTask(path: string, line: number, source: string): RolloutTask {
  let value: unknown
  try {
    value = JSON.parse(source)
  } catch (error) {
    throw new TaskFileError(path, line, `not valid JSON (${(error as Error).message})`)
  }
  if (!isPlainObject(value))
    throw new TaskFileError(path, line, `a task must be a JSON object, got ${describeValue(value)}`)
  if (!isTaskId(value.id)) {
    throw new TaskFileError(
      path,
      line,
      `\`id\` must be a non-empty string or an integer >= 0, got ${describeValue(value.id)}`,
    )
  }
  if (typeof value.question !== 'string' || value.question.trim() === '') {
    throw new TaskFileError(
      path,
      line,
      `\`question\` must be a non-empty string, got ${describeValue(value.question)}`,
    )
  }
  if (value.answer === undefined || value.answer === null) {
    throw new TaskFileError(path, line, '`answer` is required (the reward compares the final answer with it)')
  }
  return value as RolloutTask
}

/** sha256 of the tasks' ids in order: a journal only resumes a run over the same tasks. */
export function tasksFingerprint(tasks: readonly RolloutTask[]): string {
  return createHash('sha256')
    .update(JSON.stringify(tasks.map((task) => task.id)))
    .digest('hex')
}
