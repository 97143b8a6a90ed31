import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { type SkyRLExportOptions, TrainerRowError, type VerlExportOptions } from '@vllm-tito/trajectory'
import { RunCancelledError } from '../errors'
import type { RolloutResult } from '../rollout-types'
import { runRollouts } from '../run-rollouts'
import { summarizeRun } from '../run-summary'
import {
  formatTrainerRows,
  TRAINER_FORMATS,
  type TrainerFormat,
  type TrainerRows,
  tokensTrainedOn,
  toTrainerRows,
  trajectoryOptionsFor,
} from '../trainer-rows'
import { connectModelServer } from './connect-model-server'
import { FlagReader } from './flag-reader'
import { formatRunSummary } from './format-run-summary'
import { loadAgentModule } from './load-agent-module'
import { type ProgressMode, ProgressReporter } from './progress-reporter'
import { readTasksFile, tasksFingerprint } from './read-tasks-file'
import { RolloutJournal } from './rollout-journal'
import { RUNNER_FLAGS, RUNNER_FLAGS_USAGE, type RunnerFlags, readRunnerFlags } from './runner-flags'

const WHERE = 'vllm-tito rollouts'

const FLAGS = {
  ...RUNNER_FLAGS,
  tasks: { type: 'string' },
  out: { type: 'string' },
  format: { type: 'string' },
  'group-size': { type: 'string' },
  journal: { type: 'string' },
  fresh: { type: 'boolean' },
  progress: { type: 'string' },
  'split-rollout': { type: 'string' },
  'max-prompt-length': { type: 'string' },
  'max-response-length': { type: 'string' },
  'step-wise': { type: 'boolean' },
  'empty-response-token-id': { type: 'string' },
} as const

/** `vllm-tito rollouts --help`. */
export const ROLLOUTS_USAGE = `usage: vllm-tito rollouts --tasks <file.jsonl> --out <file> --format <${TRAINER_FORMATS.join('|')}> [options]

Runs every task of the tasks file (one JSON object a line: id, question, answer) --group-size times, appends
each finished rollout to a journal (<out>.journal.jsonl) the moment it finishes, and writes the trainer's rows
to <out> at the end. A rerun with the same arguments resumes: it skips what the journal has and runs the rest.

  --tasks <file.jsonl>        the tasks (required)
  --out <file>                the rows: JSONL for verl, slime and agent-lightning, one JSON object for skyrl
  --format <name>             ${TRAINER_FORMATS.join(', ')} (required)
  --group-size <n>            rollouts per task, a GRPO group (default 1)
  --journal <file>            the journal (default <out>.journal.jsonl)
  --fresh                     start over: remove the journal and the rows first
  --progress <mode>           auto (a bar on a terminal, lines otherwise), bar, lines or none
  --split-rollout <how>       verl: a rollout split at a prefix break gives throw or last-sequence (default)
  --max-prompt-length <n>     verl: rollout.prompt_length (longer prompts keep their last tokens)
  --max-response-length <n>   verl: rollout.response_length (longer responses keep their first tokens)
  --step-wise                 skyrl: one row per sequence (generator.step_wise_trajectories=true)
  --empty-response-token-id <id>  skyrl: the one mask-0 token of a rollout that failed before its first call
${RUNNER_FLAGS_USAGE}

Exit codes: 0 done; 3 done, but some rollouts have no row (each is named on stderr and in the summary's
leftOut; the journal keeps them); 1 failed; 2 a bad flag, tasks file or journal; 130 interrupted.
`

/** Runs `vllm-tito rollouts`; resolves with the process exit code. */
export async function rolloutsCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  const flags = new FlagReader(WHERE, argv, FLAGS)
  if (flags.flag('help')) {
    io.stdout.write(ROLLOUTS_USAGE)
    return 0
  }
  const settings = readSettings(flags, io)
  const tasks = readTasksFile(settings.tasksPath)
  const agent = await loadAgentModule(settings.runner.agentPath, WHERE)
  const opened = RolloutJournal.open(
    settings.journalPath,
    {
      journal: 'vllm-tito-rollouts-journal',
      version: 1,
      groupSize: settings.groupSize,
      tasks: { count: tasks.length, fingerprint: tasksFingerprint(tasks) },
    },
    { fresh: settings.fresh },
  )
  // the rows go only once the journal's lock is ours: a run another process holds keeps them
  if (settings.fresh) rmSync(settings.outPath, { force: true })
  const { journal, finished } = opened
  const server = await connectModelServer({
    ...settings.runner,
    apiKey: io.env.VLLM_API_KEY,
    where: WHERE,
  }).catch((error) => {
    journal.close()
    throw error
  })
  const controller = new AbortController()
  const stop = io.onInterrupt(() => controller.abort(new Error('interrupted (SIGINT)')))
  try {
    const run = runRollouts({
      tasks,
      groupSize: settings.groupSize,
      rollout: agent.rollout,
      reward: agent.reward,
      ...(agent.firstRequest === undefined ? {} : { firstRequest: agent.firstRequest }),
      baseUrl: server.baseUrl,
      modelId: server.modelId,
      apiKey: io.env.VLLM_API_KEY,
      concurrency: settings.runner.concurrency,
      timeoutMs: settings.runner.timeoutMs,
      retry: settings.runner.retry,
      routing: settings.runner.routing,
      stream: settings.runner.stream,
      samplingParams: settings.runner.samplingParams,
      skip: ({ rolloutId }) => finished.has(String(rolloutId)),
      signal: controller.signal,
    })
    io.stderr.write(
      `vllm-tito rollouts: ${tasks.length} tasks × ${settings.groupSize} = ${run.total + run.skipped} rollouts, ${run.skipped} already in ${settings.journalPath}${opened.repairedTail ? ' (a half-written last line was cut off)' : ''}\n  agent: ${agent.description}\n  server: ${server.description}\n`,
    )
    const progress = new ProgressReporter({ total: run.total, output: io.stderr, mode: settings.progress })
    for await (const result of run) {
      journal.append(result)
      finished.set(String(result.rolloutId), result)
      progress.update(result)
    }
    progress.finish()
  } catch (error) {
    if (!RunCancelledError.isInstance(error)) throw error
    io.stderr.write(
      `\n${error.message}\nthe journal keeps every finished rollout: rerun the same command to resume\n`,
    )
    return 130
  } finally {
    stop()
    journal.close()
    await server.close()
  }
  return writeRowsAndSummary([...finished.values()], server.modelId, settings, io)
}

/** What a command needs from its process (tests pass their own). */
export interface CommandIo {
  /** Where the summary goes. */
  stdout: NodeJS.WritableStream
  /** Where progress and errors go; a bar when it is a terminal. */
  stderr: NodeJS.WritableStream & { isTTY?: boolean }
  /** The environment (`VLLM_API_KEY`). */
  env: NodeJS.ProcessEnv
  /** Calls `handler` on SIGINT; returns a function that stops listening. */
  onInterrupt(handler: () => void): () => void
}

/** The flags of `vllm-tito rollouts`, checked. */
interface RolloutsSettings {
  tasksPath: string
  outPath: string
  journalPath: string
  format: TrainerFormat
  groupSize: number
  fresh: boolean
  progress: ProgressMode
  exportOptions: VerlExportOptions | SkyRLExportOptions | Record<string, never>
  runner: RunnerFlags
}

function readSettings(flags: FlagReader, io: CommandIo): RolloutsSettings {
  const outPath = flags.string('out', { required: true })!
  if (!existsSync(dirname(resolve(outPath)))) {
    flags.fail('out', `the folder of --out (${dirname(resolve(outPath))}) does not exist`)
  }
  const format =
    flags.oneOf('format', TRAINER_FORMATS) ??
    flags.fail('format', `--format is required (${TRAINER_FORMATS.join(', ')})`)
  const progress = flags.oneOf('progress', ['auto', 'bar', 'lines', 'none'] as const) ?? 'auto'
  return {
    tasksPath: flags.string('tasks', { required: true })!,
    outPath,
    journalPath: flags.string('journal') ?? `${outPath}.journal.jsonl`,
    format,
    groupSize: flags.integer('group-size', 1, 100_000) ?? 1,
    fresh: flags.flag('fresh'),
    progress: progress === 'auto' ? (io.stderr.isTTY ? 'bar' : 'lines') : progress,
    exportOptions: readExportOptions(flags, format),
    runner: readRunnerFlags(flags, 16),
  }
}

function readExportOptions(flags: FlagReader, format: TrainerFormat): RolloutsSettings['exportOptions'] {
  const only = (names: readonly string[], trainer: TrainerFormat) => {
    for (const name of names) {
      const given =
        FLAGS[name as keyof typeof FLAGS].type === 'boolean'
          ? flags.flag(name)
          : flags.string(name) !== undefined
      if (given && format !== trainer)
        flags.fail(name, `--${name} is a ${trainer} option; this run writes ${format}`)
    }
  }
  only(['split-rollout', 'max-prompt-length', 'max-response-length'], 'verl')
  only(['step-wise', 'empty-response-token-id'], 'skyrl')
  if (format === 'verl') {
    const maxPromptLength = flags.integer('max-prompt-length', 1)
    const maxResponseLength = flags.integer('max-response-length', 1)
    return {
      splitRollout: flags.oneOf('split-rollout', ['throw', 'last-sequence'] as const) ?? 'last-sequence',
      ...(maxPromptLength === undefined ? {} : { maxPromptLength }),
      ...(maxResponseLength === undefined ? {} : { maxResponseLength }),
    }
  }
  if (format === 'skyrl') {
    const emptyResponseTokenId = flags.integer('empty-response-token-id', 0, 0xffff_ffff)
    return {
      stepWise: flags.flag('step-wise'),
      ...(emptyResponseTokenId === undefined ? {} : { emptyResponseTokenId }),
    }
  }
  return {}
}

/**
 * Rows in the trainer's batch order (task, then sample), written to a temporary file and renamed over `out`,
 * and the summary. Resolves with the exit code: 0, or 3 when some rollouts have no row (each named on stderr
 * and in the summary's `leftOut`), or 1 when the batch breaks a trainer rule and no rows could be written.
 */
function writeRowsAndSummary(
  results: RolloutResult[],
  modelId: string,
  settings: RolloutsSettings,
  io: CommandIo,
): number {
  const ordered = results.sort((left, right) => left.rolloutNumber - right.rolloutNumber)
  const summaryPath = `${settings.outPath}.summary.json`
  let rows: TrainerRows
  try {
    rows = toTrainerRows(ordered, {
      format: settings.format,
      trajectory: trajectoryOptionsFor(modelId),
      exportOptions: settings.exportOptions,
      ids: settings.format === 'slime' ? 'positions' : 'given',
    })
  } catch (error) {
    if (!TrainerRowError.isInstance(error)) throw error
    const summary = summarizeRun(ordered)
    writeFileAtomically(summaryPath, `${JSON.stringify(summary, null, 2)}\n`)
    io.stdout.write(formatRunSummary(summary, { stream: settings.runner.stream, summaryPath }))
    io.stderr.write(
      `vllm-tito rollouts: no ${settings.format} rows written: ${error.message}\nthe journal keeps every rollout: ${settings.journalPath}\n`,
    )
    return 1
  }
  writeFileAtomically(settings.outPath, formatTrainerRows(rows))
  const summary = summarizeRun(ordered, tokensTrainedOn(rows), rows.leftOut)
  writeFileAtomically(summaryPath, `${JSON.stringify(summary, null, 2)}\n`)
  io.stdout.write(formatRunSummary(summary, { stream: settings.runner.stream, summaryPath }))
  io.stdout.write(
    `rows: ${settings.format} → ${settings.outPath}\njournal: ${settings.journalPath}\nsummary: ${summaryPath}\n`,
  )
  if (rows.leftOut.length === 0) return 0
  io.stderr.write(
    `vllm-tito rollouts: ${rows.leftOut.length} of ${ordered.length} rollouts have no ${settings.format} row (the rows of the others are written; the journal keeps these):\n`,
  )
  for (const entry of rows.leftOut) {
    const failure = entry.failure === null ? '' : ` (the rollout failed: ${entry.failure})`
    io.stderr.write(`  ${String(entry.rolloutId)}: ${entry.reason}${failure}\n`)
  }
  return 3
}

function writeFileAtomically(path: string, text: string): void {
  const temporary = `${path}.${process.pid}.tmp`
  writeFileSync(temporary, text)
  const descriptor = openSync(temporary, 'r')
  fsyncSync(descriptor)
  closeSync(descriptor)
  renameSync(temporary, path)
}
