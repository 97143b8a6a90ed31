// Token-in mode end to end: a real Strands Agent with VLLMModel({ tokenIn: true }) over HTTP against mock-vllm
// (real Qwen3 tokenizer and template), with the recorder writing JSONL and the validation hooks answering a
// malformed tool call. Two user turns, four model calls: one exact sequence, recorded as it was sent.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import { JsonlFileSink, readJsonlRecords } from '@vllm-tito/recorder'
import { VLLMTokenRecorder } from '@vllm-tito/recorder/strands'
import { buildTrajectory, QWEN3_SPECIAL_TOKEN_IDS } from '@vllm-tito/trajectory'
import { VLLMToolValidationHooks } from '@vllm-tito/validation/strands'
import { afterEach, describe, expect, it } from 'vitest'
import { calculatorAgent, calculatorPolicy, IM_END } from '../__fixtures__/token-in-rollouts'

let server: MockVllmServer | undefined
let folder: string | undefined
afterEach(async () => {
  await server?.close()
  if (folder !== undefined) await rm(folder, { recursive: true, force: true })
  server = undefined
  folder = undefined
})

describe('an Agent in token-in mode with the recorder and the validation hooks', () => {
  it('records four completions from ids, answers the malformed call, and gives one exact sequence', async () => {
    server = await startMockVllm({ policy: { script: calculatorPolicy } })
    folder = await mkdtemp(join(tmpdir(), 'vllm-tito-token-in-'))
    const sink = new JsonlFileSink(join(folder, 'records.jsonl'))
    const recorder = new VLLMTokenRecorder({ rolloutId: 'rollout-1', sink })
    const hooks = new VLLMToolValidationHooks()
    const { agent, records } = calculatorAgent(server, {
      tokenIn: true,
      thinking: true,
      plugins: [recorder, hooks],
    })

    expect(String(await agent.invoke('broken: What is 12 * 7?'))).toContain('I could not compute it.')
    expect(String(await agent.invoke('What is 12 * 7?'))).toContain('The answer is 84.')
    await recorder.flush()
    await sink.close()

    expect(hooks.totals.invalid).toBe(1)
    expect(recorder.history).toEqual(records)
    expect(
      recorder.history.map((record) => [record.kind, record.tokenIn?.mode, record.verification.status]),
    ).toEqual([
      ['completion', 'rendered', 'verified'],
      ['completion', 'appended', 'verified'],
      ['completion', 'appended', 'verified'],
      ['completion', 'appended', 'verified'],
    ])
    const { entries } = await readJsonlRecords(sink.path)
    expect(entries.map((entry) => entry.record)).toEqual(recorder.history)

    const paths = server.requests.map((request) => request.path)
    expect(paths.filter((path) => path === '/v1/chat/completions')).toEqual([])
    const completions = server.requests.filter((request) => request.path === '/v1/completions')
    expect(completions).toHaveLength(4)
    completions.forEach((request, call) => {
      expect(request.body).toMatchObject({
        prompt: recorder.history[call]!.promptTokenIds,
        return_token_ids: true,
        skip_special_tokens: false,
        stop_token_ids: [IM_END],
        stream: true,
      })
      expect((request.body as { max_tokens: number }).max_tokens).toBe(
        40960 - recorder.history[call]!.promptTokenIds!.length,
      )
    })

    const trajectory = buildTrajectory(recorder.history, { specialTokenIds: QWEN3_SPECIAL_TOKEN_IDS })
    expect(trajectory.metrics).toMatchObject({ sequences: 1, turnsMerged: 3 })
    const [sequence] = trajectory.sequences
    const trained = sequence!.lossMask.filter((mask) => mask === 1).length
    expect(trained).toBe(recorder.history.reduce((sum, record) => sum + record.tokenIds!.length, 0))
    const last = recorder.history[3]!
    expect(sequence!.tokenIds).toEqual([...last.promptTokenIds!, ...last.tokenIds!])
  })
})
