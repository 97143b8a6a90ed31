// The runner section of the soak: GRPO groups through runRollouts against the soak's two mock-vllm servers, each
// model call with a seeded random fault of the soak's kinds (a retry draws a new one), streaming and not. Checked
// per run: every planned rollout is yielded exactly once (0 lost, 0 duplicated), every one has its verl row (0 left
// out: the faults never touch /tokenize, so a rollout that failed before its first record still gets its prompt
// ids), and no row or exact sequence built from the results carries ids other than the ones the server sampled
// (0 wrong rows marked exact).
import type { MockVllmServer } from '@vllm-tito/mock-vllm'
import {
  type RolloutResult,
  RunCancelledError,
  runRollouts,
  singleTurnRollout,
  toTrainerRows,
} from '@vllm-tito/rollouts'
import { sameIds } from '@vllm-tito/spec'
import { buildTrajectory, type VerlRow } from '@vllm-tito/trajectory'
import { expectedCompletionIds, MODEL, pickFault, tokenizer } from './soak-plan'

/** Options of {@link soakRunner}. */
export interface RunnerSoakOptions {
  /** The soak's servers, by the vLLM generation they imitate. */
  servers: Record<string, MockVllmServer>
  /** Tasks in all (groups of two rollouts), split over the servers and both request modes. */
  tasks: number
  /** Rollouts running at once in each run. */
  concurrency: number
  /** When the soak must end, ms since the Unix epoch: a run still going then is cancelled (and checked). */
  deadline: number
  /** The soak's seeded generator. */
  random: () => number
}

interface RunCheck {
  name: string
  planned: number
  succeeded: number
  failed: number
  retried: number
  cancelled: number
  lost: number
  duplicated: number
  /** verl rows with the response the server sampled (the others are failed or flagged rollouts' empty rows). */
  rowsWithResponse: number
  /** Rollouts the verl rows left out (no prompt ids for an empty-response row). */
  leftOut: number
  wrongExact: number
}

const GROUP_SIZE = 2

/** Runs the section; `failures` counts lost, duplicated, left-out and wrong-but-exact rollouts and broken exports. */
export async function soakRunner(options: RunnerSoakOptions): Promise<{ report: string; failures: number }> {
  const checks: RunCheck[] = []
  const runs = Object.entries(options.servers).flatMap(([mode, server]) =>
    [true, false].map((stream) => ({ mode, server, stream })),
  )
  const tasksPerRun = Math.max(1, Math.floor(options.tasks / runs.length))
  for (const [position, run] of runs.entries()) {
    const tasks = Array.from({ length: tasksPerRun }, (_, index) => {
      const question = `rollout ${900_000 + position * tasksPerRun + index}`
      return { id: question, question }
    })
    checks.push(
      await checkRun(`${run.mode} / ${run.stream ? 'streaming' : 'non-streaming'}`, tasks, run, options),
    )
  }
  return {
    report: formatChecks(checks),
    failures: checks.reduce(
      (sum, check) => sum + check.lost + check.duplicated + check.leftOut + check.wrongExact,
      0,
    ),
  }
}

async function checkRun(
  name: string,
  tasks: Array<{ id: string; question: string }>,
  run: { server: MockVllmServer; stream: boolean },
  options: RunnerSoakOptions,
): Promise<RunCheck> {
  const results: RolloutResult[] = []
  let cancelled = 0
  try {
    for await (const result of runRollouts({
      tasks,
      groupSize: GROUP_SIZE,
      rollout: singleTurnRollout(),
      baseUrl: run.server.baseUrl,
      modelId: MODEL,
      concurrency: options.concurrency,
      stream: run.stream,
      timeoutMs: 1_000,
      retry: { attempts: 3, initialDelayMs: 20, maxDelayMs: 200 },
      clientRetries: 1,
      // asked once per attempt: every attempt draws its own fault
      requestHeaders: (): Record<string, string> => {
        const { fault } = pickFault(options.random)
        return fault === undefined ? {} : { 'x-mock-fault': JSON.stringify(fault) }
      },
      signal: AbortSignal.timeout(Math.max(5_000, options.deadline - Date.now())),
    })) {
      results.push(result)
    }
  } catch (error) {
    if (!RunCancelledError.isInstance(error)) throw error
    cancelled = error.cancelled
  }
  const seen = new Map<string, number>()
  for (const result of results)
    seen.set(String(result.rolloutId), (seen.get(String(result.rolloutId)) ?? 0) + 1)
  const planned = tasks.length * GROUP_SIZE
  return {
    name,
    planned,
    succeeded: results.filter((result) => result.status === 'succeeded').length,
    failed: results.filter((result) => result.status === 'failed').length,
    retried: results.filter((result) => result.attempts > 1).length,
    cancelled,
    lost: planned - seen.size - cancelled,
    duplicated: results.length - seen.size,
    ...checkIds(results),
  }
}

/** Exact sequences and verl rows whose ids differ from what the server sampled for the rollout's question. */
function checkIds(results: readonly RolloutResult[]): {
  wrongExact: number
  rowsWithResponse: number
  leftOut: number
} {
  let wrong = 0
  for (const result of results) {
    const prompt = expectedPrompt(result.task.question)
    const completion = expectedCompletionIds(result.task.question)
    for (const sequence of buildTrajectory(result.records).sequences) {
      if (sequence.exact && !sameIds(sequence.tokenIds, [...prompt, ...completion])) wrong += 1
    }
  }
  // verl rows follow the batch order: task by task, sample by sample
  const ordered = [...results].sort((left, right) => left.rolloutNumber - right.rolloutNumber)
  let rows: VerlRow[]
  let leftOut: number
  try {
    const built = toTrainerRows(ordered, {
      format: 'verl',
      exportOptions: { splitRollout: 'last-sequence' },
    })
    rows = built.format === 'verl' ? built.rows : []
    leftOut = built.leftOut.length
    for (const entry of built.leftOut) {
      console.error(`soak runner: rollout ${String(entry.rolloutId)} has no verl row: ${entry.reason}`)
    }
  } catch (error) {
    console.error(`soak runner: the verl export failed: ${(error as Error).message}`)
    return { wrongExact: wrong + 1, rowsWithResponse: 0, leftOut: 0 }
  }
  // a left-out rollout has no row, so rows are matched to their rollouts by id, not by position
  const byId = new Map(ordered.map((result) => [String(result.rolloutId), result]))
  let rowsWithResponse = 0
  for (const row of rows) {
    const question = byId.get(String(row.extra_fields.vllm_tito.rollout_id))!.task.question
    const promptOk = sameIds(row.prompt_ids, expectedPrompt(question))
    const responseOk =
      row.response_ids.length === 0 || sameIds(row.response_ids, expectedCompletionIds(question))
    if (!promptOk || !responseOk) wrong += 1
    if (row.response_ids.length > 0) rowsWithResponse += 1
  }
  return { wrongExact: wrong, rowsWithResponse, leftOut }
}

const promptCache = new Map<string, number[]>()
function expectedPrompt(question: string): number[] {
  let ids = promptCache.get(question)
  if (!ids) {
    ids = tokenizer.encodeChat([{ role: 'user', content: question }], { addGenerationPrompt: true })
    promptCache.set(question, ids)
  }
  return ids
}

function formatChecks(checks: readonly RunCheck[]): string {
  const header = [
    'runner / server / mode',
    'rollouts',
    'succeeded',
    'failed',
    'retried',
    'cancelled',
    'lost',
    'duplicated',
    'rows with response',
    'left out',
    'wrong exact',
  ]
  const table = [
    header,
    ...checks.map((check) =>
      [
        check.name,
        check.planned,
        check.succeeded,
        check.failed,
        check.retried,
        check.cancelled,
        check.lost,
        check.duplicated,
        check.rowsWithResponse,
        check.leftOut,
        check.wrongExact,
      ].map(String),
    ),
  ]
  const widths = header.map((_, column) => Math.max(...table.map((row) => row[column]!.length)))
  const lines = table.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  '))
  const total = (key: 'lost' | 'duplicated' | 'leftOut' | 'wrongExact') =>
    checks.reduce((sum, check) => sum + check[key], 0)
  return `${lines.join('\n')}\n\nrunner: lost ${total('lost')}; duplicated ${total('duplicated')}; left out of the rows ${total('leftOut')}; wrong rows marked exact ${total('wrongExact')}`
}
