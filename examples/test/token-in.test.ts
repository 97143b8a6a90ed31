// `pnpm example token-in` as a user runs it: a child process against the embedded mock. The printed table and
// deltas are checked against the records it wrote, and the records against the real Qwen3 tokenizer and the
// trajectory builder.
import { loadQwen3Tokenizer } from '@vllm-tito/mock-vllm'
import { readJsonlRecords } from '@vllm-tito/recorder'
import { startsWithConcatenation, type TokenRecord } from '@vllm-tito/spec'
import { buildTrajectory, QWEN3_SPECIAL_TOKEN_IDS } from '@vllm-tito/trajectory'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ExampleRun, runExampleFile, valueAfter } from './run-example'

let run: ExampleRun
let records: TokenRecord[]
beforeAll(async () => {
  run = await runExampleFile('token-in.ts')
  expect(run.stderr).toBe('')
  expect(run.exitCode).toBe(0)
  const { entries } = await readJsonlRecords(`${run.outputDirectory}/token-in-records.jsonl`)
  expect(entries.map((entry) => [entry.rolloutId, entry.callIndex])).toEqual([
    ['token-in', 0],
    ['token-in', 1],
    ['token-in', 2],
    ['token-in', 3],
  ])
  records = entries.map((entry) => entry.record)
}, 120_000)
afterAll(() => run?.cleanUp())

/** The printed table's row of a mode, split into its cells. */
function tableRow(mode: string): string[] {
  const line = run.stdout.split('\n').find((candidate) => new RegExp(`^${mode} +\\d`).test(candidate))
  if (line === undefined) throw new Error(`no table row for ${mode}`)
  return line.trim().split(/\s{2,}/)
}

describe('pnpm example token-in', () => {
  it('answers the same in both modes; chat mode breaks into two sequences where token-in gives one', () => {
    expect(valueAfter(run.stdout, 'chat answers:     ')).toBe('"12 * 7 is 84.", "17 * 23 is 391."')
    expect(valueAfter(run.stdout, 'token-in answers: ')).toBe('"12 * 7 is 84.", "17 * 23 is 391."')
    const trajectory = buildTrajectory(records, { specialTokenIds: QWEN3_SPECIAL_TOKEN_IDS })
    const trained = records.reduce((sum, record) => sum + record.tokenIds!.length, 0)
    expect(tableRow('token-in')).toEqual([
      'token-in',
      '4',
      '1',
      'none',
      String(trained),
      String(trajectory.metrics.tokensInSequences),
      '4/4',
    ])
    const chat = tableRow('chat')
    expect(chat.slice(0, 5)).toEqual(['chat', '4', '2', 'template', String(trained)])
    expect(Number(chat[5])).toBeGreaterThan(trajectory.metrics.tokensInSequences)
    expect(valueAfter(run.stdout, "token-in sequence = the last call's prompt + response ids: ")).toBe('yes')
  })

  it('prints every appended delta as the real tokenizer decodes the recorded ids', async () => {
    const tokenizer = await loadQwen3Tokenizer()
    const expected = ['token-in calls (each appended delta, decoded):']
    records.forEach((record, call) => {
      const info = record.tokenIn!
      const prompt = record.promptTokenIds!
      if (call === 0) {
        expect(info).toMatchObject({ mode: 'rendered', renderReason: 'first-call' })
        expected.push(`  call 0: rendered by the chat template (first-call), ${prompt.length} prompt ids`)
        return
      }
      const previous = records[call - 1]!
      expect(startsWithConcatenation(prompt, previous.promptTokenIds!, previous.tokenIds!)).toBe(true)
      expect(info.keptLength).toBe(previous.promptTokenIds!.length + previous.tokenIds!.length)
      expected.push(
        `  call ${call}: the previous ${info.keptLength} ids kept, ${prompt.length - info.keptLength} appended:`,
      )
      for (const segment of info.segments) {
        const roles = segment.roles.length > 0 ? ` (${segment.roles.join(', ')})` : ''
        const text = tokenizer.decode(prompt.slice(segment.start, segment.end))
        expected.push(`    ${segment.kind}${roles}: ${JSON.stringify(text)}`)
      }
    })
    expect(run.stdout).toContain(expected.join('\n'))
    expect(run.stdout).toContain(
      '    messages (tool): "<|im_start|>user\\n<tool_response>\\n84\\n</tool_response><|im_end|>"',
    )
    expect(run.stdout).toContain('    messages (user): "<|im_start|>user\\nAnd what is 17 * 23?<|im_end|>"')
  })
})
