import { type ChildProcess, spawn } from 'node:child_process'
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const MODEL = 'Qwen/Qwen3-8B'
const TASKS = 12
const GROUP_SIZE = 3
const BIN = join(import.meta.dirname, '..', 'bin.ts')

let server: MockVllmServer
let folder: string

beforeAll(async () => {
  // slow enough that the run is still going when it is killed
  server = await startMockVllm({ model: MODEL, policy: 'demo', pacing: { firstTokenDelayMs: 60 } })
  folder = mkdtempSync(join(tmpdir(), 'resume-after-kill-'))
})
afterAll(async () => {
  await server.close()
  rmSync(folder, { recursive: true, force: true })
})

/** The CLI from sources, as `pnpm rollouts` runs it. */
function startCli(argv: string[]): {
  child: ChildProcess
  exited: Promise<{ code: number | null; stderr: string }>
} {
  const child = spawn(
    process.execPath,
    ['--conditions=@vllm-tito/source', '--import', 'tsx', BIN, 'rollouts', ...argv],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  )
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8')
  })
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, stderr })),
  )
  return { child, exited }
}

function journalIds(path: string): string[] {
  if (!existsSync(path)) return []
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.endsWith('}') && line.startsWith('{"rollout"'))
    .map((line) => String(JSON.parse(line).rollout.rolloutId))
}

describe('vllm-tito rollouts after kill -9', () => {
  it('resumes: the rerun skips what finished, runs the rest, and writes every rollout exactly once', async () => {
    const tasksPath = join(folder, 'tasks.jsonl')
    writeFileSync(
      tasksPath,
      Array.from({ length: TASKS }, (_, index) =>
        JSON.stringify({
          id: `t${index}`,
          question: `What is ${index} + 5? Use the calculator tool.`,
          answer: String(index + 5),
        }),
      ).join('\n'),
    )
    const out = join(folder, 'rows.jsonl')
    const journal = `${out}.journal.jsonl`
    const argv = [
      '--tasks',
      tasksPath,
      '--group-size',
      String(GROUP_SIZE),
      '--concurrency',
      '2',
      '--format',
      'verl',
    ]
    argv.push('--out', out, '--base-url', server.baseUrl, '--model', MODEL, '--progress', 'none')

    const first = startCli(argv)
    const deadline = Date.now() + 60_000
    while (journalIds(journal).length < 4) {
      if (Date.now() > deadline) throw new Error('the first run wrote no journal lines in time')
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    first.child.kill('SIGKILL')
    const killed = await first.exited
    expect(killed.code).toBeNull()
    const finishedBeforeKill = journalIds(journal)
    expect(finishedBeforeKill.length).toBeLessThan(TASKS * GROUP_SIZE)
    expect(existsSync(out)).toBe(false)
    // the lock of the killed process is left behind, and a write it was in the middle of is cut short
    expect(existsSync(`${journal}.lock`)).toBe(true)
    const lastLine = readFileSync(journal, 'utf8').trimEnd().split('\n').at(-1)!
    appendFileSync(journal, lastLine.slice(0, Math.floor(lastLine.length / 2)))

    const second = startCli(argv)
    const done = await second.exited
    expect(done.code).toBe(0)
    expect(done.stderr).toContain(
      `${TASKS} tasks × ${GROUP_SIZE} = ${TASKS * GROUP_SIZE} rollouts, ${finishedBeforeKill.length} already in ${journal} (a half-written last line was cut off)`,
    )

    const expected = Array.from(
      { length: TASKS * GROUP_SIZE },
      (_, index) => `t${Math.floor(index / GROUP_SIZE)}/${index % GROUP_SIZE}`,
    )
    const rows = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    expect(rows.map((row) => row.extra_fields.vllm_tito.rollout_id)).toEqual(expected)
    expect(rows.every((row) => row.reward_score === 1)).toBe(true)
    const ids = journalIds(journal)
    expect(ids).toHaveLength(TASKS * GROUP_SIZE)
    expect(new Set(ids).size).toBe(TASKS * GROUP_SIZE)
    // what finished before the kill was kept, not run again
    expect(ids.slice(0, finishedBeforeKill.length)).toEqual(finishedBeforeKill)
    expect(existsSync(`${journal}.lock`)).toBe(false)
  }, 120_000)
})
