import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import { InvalidOptionError } from '@vllm-tito/spec'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { testIo } from '../__fixtures__/command-io'
import type { RunSummary } from '../run-summary'
import { rolloutsCommand } from './rollouts-command'

const MODEL = 'Qwen/Qwen3-8B'
let folder: string
let tasksPath: string
let server: MockVllmServer

beforeAll(async () => {
  server = await startMockVllm({ model: MODEL, policy: 'demo' })
})
afterAll(async () => {
  await server.close()
})
beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'rollouts-command-'))
  tasksPath = join(folder, 'tasks.jsonl')
  writeFileSync(
    tasksPath,
    [
      { id: 'mul', question: 'What is 17 * 23? Use the calculator tool.', answer: '391' },
      // the demo model answers 7 * 8 correctly; the answer on file is wrong, so this group is rewarded 0
      { id: 'wrong', question: 'What is 7 * 8? Use the calculator tool.', answer: '57' },
    ]
      .map((task) => JSON.stringify(task))
      .join('\n'),
  )
  return () => rmSync(folder, { recursive: true, force: true })
})

const base = () => ['--tasks', tasksPath, '--group-size', '2', '--progress', 'none']

describe('vllm-tito rollouts', () => {
  it('runs every group on the embedded mock and writes verl rows in task order, a summary and a journal', async () => {
    const io = testIo()
    const out = join(folder, 'verl.jsonl')
    expect(await rolloutsCommand([...base(), '--format', 'verl', '--out', out], io)).toBe(0)
    const rows = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    expect(rows.map((row) => row.extra_fields.vllm_tito.rollout_id)).toEqual([
      'mul/0',
      'mul/1',
      'wrong/0',
      'wrong/1',
    ])
    expect(rows.map((row) => row.reward_score)).toEqual([1, 1, 0, 0])
    const summary = JSON.parse(readFileSync(`${out}.summary.json`, 'utf8')) as RunSummary
    expect(summary).toMatchObject({
      rollouts: 4,
      succeeded: 4,
      successRate: 1,
      records: 8,
      verifiedRecords: 8,
      verifiedShare: 1,
    })
    const trained = rows.reduce(
      (sum, row) => sum + row.response_mask.filter((bit: number) => bit === 1).length,
      0,
    )
    expect(summary.tokensTrainedOn).toBe(trained)
    expect(summary.groups).toEqual([
      { taskId: 'mul', rollouts: 2, succeeded: 2, rewardMean: 1, rewardStd: 0 },
      { taskId: 'wrong', rollouts: 2, succeeded: 2, rewardMean: 0, rewardStd: 0 },
    ])
    expect(io.stdout.text).toContain(
      'rollouts: 4 (4 succeeded, 0 failed) · success rate 100.0% · 0 needed a retry\n',
    )
    expect(io.stdout.text).toContain('model calls: 8 records, 8 verified (100.0%)')
    expect(io.stdout.text).toContain(
      `tokens: ${summary.completionTokens.toLocaleString('en-US')} generated · ${trained} trained on (loss mask 1)\n`,
    )
    expect(io.stdout.text).toContain('  mul: 2, 1.000 ± 0.000\n  wrong: 2, 0.000 ± 0.000\n')
    expect(io.stderr.text).toContain('2 tasks × 2 = 4 rollouts, 0 already in')
    expect(readFileSync(`${out}.journal.jsonl`, 'utf8').trim().split('\n')).toHaveLength(5)
  })

  it('resumes from the journal: a rerun calls the model for nothing already finished and writes the same rows', async () => {
    const out = join(folder, 'slime.jsonl')
    const argv = [
      ...base(),
      '--format',
      'slime',
      '--out',
      out,
      '--base-url',
      server.baseUrl,
      '--model',
      MODEL,
    ]
    expect(await rolloutsCommand(argv, testIo())).toBe(0)
    const firstRows = readFileSync(out, 'utf8')
    const before = server.requests.length
    const io = testIo()
    expect(await rolloutsCommand(argv, io)).toBe(0)
    expect(
      server.requests.slice(before).filter((request) => request.path === '/v1/chat/completions'),
    ).toHaveLength(0)
    expect(io.stderr.text).toContain('2 tasks × 2 = 4 rollouts, 4 already in')
    expect(readFileSync(out, 'utf8')).toBe(firstRows)
    // slime's ids are integers: the task's position and the rollout's number
    const samples = firstRows
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    expect(samples.map((sample) => [sample.group_index, sample.index, sample.rollout_id])).toEqual([
      [0, 0, 0],
      [0, 1, 1],
      [1, 2, 2],
      [1, 3, 3],
    ])
  })

  it('rewrites the rows in another format from the journal without running anything, or starts over with --fresh', async () => {
    const journal = join(folder, 'run.journal.jsonl')
    const common = [...base(), '--journal', journal, '--base-url', server.baseUrl, '--model', MODEL]
    expect(
      await rolloutsCommand([...common, '--format', 'verl', '--out', join(folder, 'a.jsonl')], testIo()),
    ).toBe(0)
    const before = server.requests.length
    const skyrlOut = join(folder, 'b.json')
    expect(await rolloutsCommand([...common, '--format', 'skyrl', '--out', skyrlOut], testIo())).toBe(0)
    expect(server.requests.length - before).toBe(1) // the /health check only
    const output = JSON.parse(readFileSync(skyrlOut, 'utf8'))
    expect(output.trajectory_ids).toEqual([
      { instance_id: 'mul', repetition_id: 0 },
      { instance_id: 'mul', repetition_id: 1 },
      { instance_id: 'wrong', repetition_id: 0 },
      { instance_id: 'wrong', repetition_id: 1 },
    ])
    const io = testIo()
    expect(await rolloutsCommand([...common, '--format', 'skyrl', '--out', skyrlOut, '--fresh'], io)).toBe(0)
    expect(io.stderr.text).toContain('0 already in')
  })

  it('--fresh leaves the journal and rows of a run another live process holds the lock of', async () => {
    const out = join(folder, 'held.jsonl')
    const journal = `${out}.journal.jsonl`
    writeFileSync(journal, '{"journal":"vllm-tito-rollouts-journal"}\n{"rollout":"of the other run"}\n')
    writeFileSync(out, 'the other run’s rows\n')
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)'])
    try {
      writeFileSync(`${journal}.lock`, String(other.pid))
      const argv = [...base(), '--format', 'verl', '--out', out, '--fresh']
      await expect(rolloutsCommand(argv, testIo())).rejects.toThrow(
        `another process (pid ${other.pid}) is writing this journal`,
      )
      expect(readFileSync(journal, 'utf8')).toContain('of the other run')
      expect(readFileSync(out, 'utf8')).toBe('the other run’s rows\n')
    } finally {
      other.kill('SIGKILL')
      await new Promise((resolve) => other.once('exit', resolve))
    }
  })

  it('stops on Ctrl-C: the journal keeps the finished rollouts, no rows are written, the rerun completes the rest', async () => {
    const slow = await startMockVllm({ model: MODEL, policy: 'demo', pacing: { firstTokenDelayMs: 150 } })
    try {
      const out = join(folder, 'verl.jsonl')
      const argv = [
        ...base(),
        '--concurrency',
        '1',
        '--format',
        'verl',
        '--out',
        out,
        '--base-url',
        slow.baseUrl,
        '--model',
        MODEL,
      ]
      const io = testIo()
      const running = rolloutsCommand(argv, io)
      await waitFor(() => journalLines(`${out}.journal.jsonl`) >= 1)
      io.interrupt()
      expect(await running).toBe(130)
      expect(existsSync(out)).toBe(false)
      expect(io.stderr.text).toContain('rerun the same command to resume')
      const kept = journalLines(`${out}.journal.jsonl`)
      expect(kept).toBeGreaterThanOrEqual(1)
      expect(kept).toBeLessThan(4)
      const rerun = testIo()
      expect(await rolloutsCommand(argv, rerun)).toBe(0)
      expect(rerun.stderr.text).toContain(`${kept} already in`)
      expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(4)
      expect(journalLines(`${out}.journal.jsonl`)).toBe(4)
    } finally {
      await slow.close()
    }
  })

  it('writes the rows of every other rollout when one has none, names it on stderr and in the summary, and exits 3', async () => {
    writeFileSync(
      tasksPath,
      [
        { id: 'mul', question: 'What is 17 * 23? Use the calculator tool.', answer: '391' },
        { id: 'broken', question: 'What is 2 + 2? Use the calculator tool.', answer: '4' },
      ]
        .map((task) => JSON.stringify(task))
        .join('\n'),
    )
    const out = join(folder, 'verl.jsonl')
    const agent = join(import.meta.dirname, '..', '__fixtures__', 'agent-module-broken-task.ts')
    const argv = [...base(), '--format', 'verl', '--out', out, '--base-url', server.baseUrl, '--agent', agent]
    const io = testIo()
    expect(await rolloutsCommand(argv, io)).toBe(3)
    const rows = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    expect(rows.map((row) => [row.extra_fields.vllm_tito.rollout_id, row.reward_score])).toEqual([
      ['mul/0', 1],
      ['mul/1', 1],
    ])
    const reason =
      'no record to build a row from, and no prompt ids for an empty-response row: it made no model call, and the run has no firstRequest to tell its prompt (pass firstRequest, e.g. agentFirstRequest(factory))'
    expect(io.stderr.text).toContain(
      `vllm-tito rollouts: 2 of 4 rollouts have no verl row (the rows of the others are written; the journal keeps these):\n  broken/0: ${reason} (the rollout failed: Error: no agent for this task)\n  broken/1: ${reason}`,
    )
    expect(io.stdout.text).toContain('left out: 2 rollouts have no row')
    const summary = JSON.parse(readFileSync(`${out}.summary.json`, 'utf8')) as RunSummary
    expect(summary.leftOut.map((entry) => [entry.rolloutId, entry.rule])).toEqual([
      ['broken/0', 'row-required'],
      ['broken/1', 'row-required'],
    ])
    // the journal keeps both failed rollouts, with their failure
    const journaled = readFileSync(`${out}.journal.jsonl`, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => JSON.parse(line).rollout)
      .filter((rollout) => rollout.taskId === 'broken')
    expect(journaled.map((rollout) => [rollout.status, rollout.failure.message])).toEqual([
      ['failed', 'Error: no agent for this task'],
      ['failed', 'Error: no agent for this task'],
    ])
    // with the module's firstRequest, a fresh run gives them empty-response rows with their prompt ids
    const withPrompt = testIo()
    const fixed = join(import.meta.dirname, '..', '__fixtures__', 'agent-module-broken-task-first-request.ts')
    expect(await rolloutsCommand([...argv.slice(0, -1), fixed, '--fresh'], withPrompt)).toBe(0)
    const fixedRows = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    expect(
      fixedRows.map((row) => [row.extra_fields.vllm_tito.rollout_id, row.response_ids.length > 0]),
    ).toEqual([
      ['mul/0', true],
      ['mul/1', true],
      ['broken/0', false],
      ['broken/1', false],
    ])
    expect(fixedRows[2].prompt_ids.length).toBeGreaterThan(100)
  })

  it('says which request mode ran', async () => {
    const out = join(folder, 'verl.jsonl')
    const common = [
      '--tasks',
      tasksPath,
      '--progress',
      'none',
      '--format',
      'verl',
      '--base-url',
      server.baseUrl,
    ]
    const plain = testIo()
    expect(await rolloutsCommand([...common, '--out', out], plain)).toBe(0)
    expect(plain.stdout.text).toContain('· 4 non-streaming, 0 streamed\n')
    expect(plain.stdout.text).toContain('mode: non-streaming (the default; --stream streams)\n')
    const streamed = testIo()
    expect(await rolloutsCommand([...common, '--out', join(folder, 's.jsonl'), '--stream'], streamed)).toBe(0)
    expect(streamed.stdout.text).toContain('· 0 non-streaming, 4 streamed\n')
    expect(streamed.stdout.text).toContain('mode: streaming (--stream)\n')
  })

  it('refuses flags of another trainer and missing flags with InvalidOptionError naming the flag', async () => {
    const out = join(folder, 'x.jsonl')
    await expect(
      rolloutsCommand([...base(), '--format', 'verl', '--out', out, '--step-wise'], testIo()),
    ).rejects.toThrow(
      new InvalidOptionError(
        'vllm-tito rollouts',
        '--step-wise',
        '--step-wise is a skyrl option; this run writes verl',
      ),
    )
    await expect(rolloutsCommand([...base(), '--out', out], testIo())).rejects.toThrow(
      '--format is required (verl, skyrl, slime, agent-lightning)',
    )
    await expect(rolloutsCommand([...base(), '--format', 'trl', '--out', out], testIo())).rejects.toThrow(
      '--format must be one of verl, skyrl, slime, agent-lightning, got "trl"',
    )
    await expect(
      rolloutsCommand([...base(), '--format', 'verl', '--out', join(folder, 'missing', 'x.jsonl')], testIo()),
    ).rejects.toThrow(`the folder of --out (${join(folder, 'missing')}) does not exist`)
    await expect(
      rolloutsCommand([...base(), '--format', 'verl', '--out', out, '--concurrency', 'many'], testIo()),
    ).rejects.toThrow('--concurrency must be an integer from 1 to 1000000, got "many"')
    // a longer timer would fire at once (Node's timers hold at most 2^31 - 1 ms): every attempt would time out
    await expect(
      rolloutsCommand([...base(), '--format', 'verl', '--out', out, '--timeout', '1e7'], testIo()),
    ).rejects.toThrow('--timeout must be a number greater than 0 and at most 2147483.647, got "1e7"')
  })
})

function journalLines(path: string): number {
  if (!existsSync(path)) return 0
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{"rollout"')).length
}

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('the condition did not come true in time')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
