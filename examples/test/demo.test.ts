// `pnpm demo` as a user runs it: a child process against the embedded mock, a "real" server given by
// VLLM_BASE_URL (mock-vllm in this process), and a configured server that is down.
import { once } from 'node:events'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { loadQwen3Tokenizer, type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import { readJsonlRecords } from '@vllm-tito/recorder'
import { findDriftIndex, type VerlRow } from '@vllm-tito/trajectory'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import type { SpanLine } from '../src/shared/jsonl-span-file-processor'
import { type ExampleRun, parseJsonl, runExampleFile, valueAfter } from './run-example'

const runs: ExampleRun[] = []
async function runDemo(environment: Record<string, string> = {}): Promise<ExampleRun> {
  const run = await runExampleFile('demo.ts', environment)
  runs.push(run)
  return run
}
afterEach(() => {
  for (const run of runs.splice(0)) run.cleanUp()
})

let realServer: MockVllmServer | undefined
afterAll(async () => {
  await realServer?.close()
})

describe('pnpm demo against the embedded mock', () => {
  it('prints the answer, the TITO table, the drift check and the paths, and writes parseable files', async () => {
    const run = await runDemo()
    expect(run.stderr).toMatch(/^\[demo \d+\.\ds\] connecting to the server$/m)
    expect(run.stderr).toMatch(/\] done$/m)
    expect(run.exitCode).toBe(0)
    const { stdout } = run

    expect(valueAfter(stdout, 'task:   ')).toBe('What is 17 * 23? Use the calculator tool.')
    expect(valueAfter(stdout, 'answer: ')).toBe('17 * 23 is 391.')
    expect(valueAfter(stdout, 'tool:   ')).toBe('calculator {"expression":"17 * 23"} → 391')
    expect(valueAfter(stdout, 'tool calls rejected by validation: ')).toBe('0')
    expect(valueAfter(stdout, 'server: ')).toMatch(
      /^embedded mock-vllm at http:\/\/127\.0\.0\.1:\d+, model Qwen\/Qwen3-8B/,
    )

    const trajectoryPath = join(run.outputDirectory, 'demo-trajectory.jsonl')
    const recordsPath = join(run.outputDirectory, 'demo-records.jsonl')
    const spansPath = join(run.outputDirectory, 'demo-spans.jsonl')
    expect(valueAfter(stdout, 'trajectory (verl rows, JSONL): ')).toBe(trajectoryPath)
    expect(valueAfter(stdout, 'token records (JSONL):         ')).toBe(recordsPath)
    expect(valueAfter(stdout, 'spans (OpenTelemetry, JSONL):  ')).toBe(
      `${spansPath} (8 spans, 2 with token ids)`,
    )

    // the records file: two calls, exact ids, verified against usage
    const { entries, truncatedTail } = await readJsonlRecords(recordsPath)
    expect(truncatedTail).toBe(false)
    expect(entries.map((entry) => [entry.rolloutId, entry.callIndex])).toEqual([
      ['demo-rollout-0', 0],
      ['demo-rollout-0', 1],
    ])
    const [first, second] = entries.map((entry) => entry.record)
    expect(first?.verification.status).toBe('verified')
    expect(second?.verification.status).toBe('verified')
    expect(first?.toolCalls.map((call) => call.name)).toEqual(['calculator'])
    const tokenizer = await loadQwen3Tokenizer()
    expect(tokenizer.decode(second!.tokenIds!)).toContain('17 * 23 is 391.')

    // the TITO table: one row per call, the second call extends the first exactly
    const firstPrompt = first!.promptTokenIds!.length
    const firstResponse = first!.tokenIds!.length
    const secondPrompt = second!.promptTokenIds!.length
    const secondResponse = second!.tokenIds!.length
    const added = secondPrompt - firstPrompt - firstResponse
    const rows = stdout.split('\n').filter((line) => /^ {3}[01] /.test(line))
    expect(rows.map((line) => line.trim().split(/\s+/))).toEqual([
      [
        '0',
        `${firstPrompt}`,
        `${firstResponse}`,
        'tool_calls',
        '0',
        'start',
        `${firstPrompt}`,
        `${firstResponse}`,
        'yes',
      ],
      [
        '1',
        `${secondPrompt}`,
        `${secondResponse}`,
        'stop',
        '0',
        'prefix',
        `${added}`,
        `${secondResponse}`,
        'yes',
      ],
    ])
    const total = secondPrompt + secondResponse
    expect(stdout).toContain(
      `sequence 0: ${total} tokens = ${firstPrompt + added} with loss mask 0 (prompt, tool results) + ${firstResponse + secondResponse} with loss mask 1 (model output); 2 call(s), exact`,
    )

    // the trajectory file: one verl row holding both calls, mask 1 exactly on the two responses
    const [row, ...moreRows] = parseJsonl(run.readOutput('demo-trajectory.jsonl')) as VerlRow[]
    expect(moreRows).toEqual([])
    expect(row?.prompt_ids).toEqual(first!.promptTokenIds)
    expect(row?.response_ids).toEqual([...second!.promptTokenIds!.slice(firstPrompt), ...second!.tokenIds!])
    expect(row?.response_mask).toEqual([
      ...Array<number>(firstResponse).fill(1),
      ...Array<number>(added).fill(0),
      ...Array<number>(secondResponse).fill(1),
    ])

    // drift check through the server's /detokenize + /tokenize: the embedded mock samples canonically
    expect(stdout).toContain(`call 0: ${firstResponse} sampled ids re-encode to the same ids: no drift`)
    expect(stdout).toContain(`call 1: ${secondResponse} sampled ids re-encode to the same ids: no drift`)

    // the spans file: the recorder's two spans carry the same ids as the records; the SDK's own spans too
    const spans = parseJsonl(run.readOutput('demo-spans.jsonl')) as SpanLine[]
    expect(spans.map((span) => span.name).sort()).toEqual([
      'chat',
      'chat',
      'execute_agent_loop_cycle',
      'execute_agent_loop_cycle',
      'execute_tool calculator',
      'invoke_agent Strands Agent',
      'openai.chat.completion',
      'openai.chat.completion',
    ])
    const tokenSpans = spans.filter((span) => span.name === 'openai.chat.completion')
    expect(tokenSpans.map((span) => span.attributes.prompt_token_ids)).toEqual([
      first!.promptTokenIds,
      second!.promptTokenIds,
    ])
    expect(tokenSpans.map((span) => span.attributes.response_token_ids)).toEqual([
      first!.tokenIds,
      second!.tokenIds,
    ])
    expect(tokenSpans.map((span) => span.attributes['vllm_tito.rollout_id'])).toEqual([
      'demo-rollout-0',
      'demo-rollout-0',
    ])
  })

  it('finds real drift when the mock samples non-canonical splits, and the builder starts a new sequence', async () => {
    const run = await runDemo({ MOCK_NON_CANONICAL_RATE: '0.5' })
    expect(run.exitCode).toBe(0)
    const { entries } = await readJsonlRecords(join(run.outputDirectory, 'demo-records.jsonl'))
    const tokenizer = await loadQwen3Tokenizer()
    const driftIndexes = entries.map(({ record }) => {
      const sampled = record.tokenIds!
      return findDriftIndex(sampled, tokenizer.encode(tokenizer.decode(sampled)))
    })
    // the first call's reply has a dozen words, so with this seed some are split non-canonically; the second
    // ("17 * 23 is 391.") has one word, and the demo must report whichever it finds
    expect(driftIndexes[0]).toBeGreaterThanOrEqual(0)
    for (const [index, driftIndex] of driftIndexes.entries()) {
      const sampledCount = entries[index]!.record.tokenIds!.length
      expect(run.stdout).toContain(
        driftIndex >= 0
          ? `call ${index}: drift at index ${driftIndex}: ${sampledCount} sampled ids`
          : `call ${index}: ${sampledCount} sampled ids re-encode to the same ids: no drift`,
      )
    }
    expect(run.stdout).toMatch(/^ {3}1 .* 1 {2}new \(retokenization break\) .* yes$/m)
    expect(run.stdout).toContain('call 1 started a new sequence (retokenization break)')
    expect(parseJsonl(run.readOutput('demo-trajectory.jsonl'))).toHaveLength(2)
  })
})

describe('pnpm demo against a configured server', () => {
  it('uses VLLM_BASE_URL (with /v1, as strands-vllm writes it) and the first served model when VLLM_MODEL_ID is unset', async () => {
    realServer = await startMockVllm({ model: 'my-org/my-model' })
    const run = await runDemo({ VLLM_BASE_URL: `${realServer.baseUrl}/v1` })
    expect(run.stderr).not.toContain('error')
    expect(run.exitCode).toBe(0)
    expect(valueAfter(run.stdout, 'server: ')).toBe(`vLLM at ${realServer.baseUrl}, model my-org/my-model`)
    expect(valueAfter(run.stdout, 'answer: ')).toBe('17 * 23 is 391.')
    const paths = realServer.requests.map((request) => `${request.method} ${request.path}`)
    expect(paths.slice(0, 4)).toEqual([
      'GET /health',
      'GET /v1/models',
      'POST /v1/chat/completions',
      'POST /v1/chat/completions',
    ])
    // the drift check asked the server's own tokenizer
    expect(paths.filter((path) => path === 'POST /detokenize')).toHaveLength(2)
    expect(paths.filter((path) => path === 'POST /tokenize')).toHaveLength(2)
  })

  it('exits non-zero with the curl hint when the configured server cannot be reached', async () => {
    // a port that was free a moment ago: nothing listens there
    const probe = createServer().listen(0, '127.0.0.1')
    await once(probe, 'listening')
    const { port } = probe.address() as { port: number }
    probe.close()
    await once(probe, 'close')

    const run = await runDemo({
      VLLM_BASE_URL: `http://127.0.0.1:${port}/v1`,
      VLLM_MODEL_ID: 'Qwen/Qwen3-8B',
    })
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toBe('')
    expect(run.stderr).toContain(
      `error: ServerUnreachableError: cannot reach the vLLM server at http://127.0.0.1:${port}`,
    )
    expect(run.stderr).toContain('ECONNREFUSED')
    expect(run.stderr).toContain(`curl http://127.0.0.1:${port}/health`)
    expect(run.stderr).toContain('vllm serve <MODEL_ID> --enable-auto-tool-choice --tool-call-parser hermes')
  })

  it('exits non-zero naming the missing variable when only VLLM_MODEL_ID is set', async () => {
    const run = await runDemo({ VLLM_MODEL_ID: 'Qwen/Qwen3-8B' })
    expect(run.exitCode).toBe(1)
    expect(run.stderr).toContain(
      'error: TargetConfigurationError: VLLM_MODEL_ID is set but VLLM_BASE_URL is not; set both to use a real vLLM server, or neither to use the embedded mock',
    )
  })
})
