// Token-in mode through the Agent Lightning 1.0 gateway stand-in, in front of mock-vllm: completions go through
// the gateway (non-streaming, as it requires), which has no /tokenize, so prompts are rendered at the vLLM
// server named by tokenIn.tokenizeBaseUrl. The gateway stores exactly the ids the records hold.
import { type MockAgentLightningServer, startMockAgentLightning } from '@vllm-tito/mock-agent-lightning'
import { type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import { VLLMTokenRecorder } from '@vllm-tito/recorder/strands'
import { buildTrajectory, QWEN3_SPECIAL_TOKEN_IDS } from '@vllm-tito/trajectory'
import { VLLMToolValidationHooks } from '@vllm-tito/validation/strands'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { calculatorAgent, calculatorPolicy, MODEL_ID } from '../__fixtures__/token-in-rollouts'

const KEY = 'gateway-key'
let vllm: MockVllmServer
let gateway: MockAgentLightningServer

beforeAll(async () => {
  vllm = await startMockVllm({ policy: { script: calculatorPolicy } })
  gateway = await startMockAgentLightning({
    key: KEY,
    models: [{ model: MODEL_ID, endpoint: `${vllm.baseUrl}/v1` }],
  })
})
afterAll(async () => {
  await gateway.close()
  await vllm.close()
})

async function newRollout(): Promise<string> {
  const created = await fetch(`${gateway.url}/api/rollouts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify([{ input: { question: 'What is 12 * 7?' } }]),
  })
  return ((await created.json()) as Array<{ rollout_id: string }>)[0]!.rollout_id
}

describe('token-in mode through the Agent Lightning gateway', () => {
  it('two user turns, four completions through the gateway, recorded and validated, one sequence with the ids it stored', async () => {
    const rolloutId = await newRollout()
    const environment = gateway.agentEnvironment(rolloutId)
    const recorder = new VLLMTokenRecorder({ rolloutId, addToSpan: false })
    const hooks = new VLLMToolValidationHooks()
    const { agent, records } = calculatorAgent(vllm, {
      tokenIn: true,
      thinking: true,
      plugins: [recorder, hooks],
      model: {
        baseUrl: environment.AGL_OPENAI_BASE_URL,
        apiKey: environment.AGL_KEY,
        modelId: 'policy',
        stream: false,
        tokenIn: { tokenizeBaseUrl: vllm.baseUrl },
      },
    })
    expect(String(await agent.invoke('What is 12 * 7?'))).toContain('The answer is 84.')
    expect(String(await agent.invoke('Now what is 3 + 4?'))).toContain('The answer is 7.')

    const proxied = gateway.requests.filter((request) => request.url.includes(`/proxy/rollout/${rolloutId}/`))
    expect(proxied.map((request) => request.url.split('/openai/v1/')[1])).toEqual([
      'completions',
      'completions',
      'completions',
      'completions',
    ])
    const stored = gateway
      .events(rolloutId)
      .filter((event) => event.event_type === 'model_request')
      .map((event) => event.data as { request: Record<string, unknown>; response: Record<string, unknown> })
    expect(stored).toHaveLength(4)
    stored.forEach(({ request, response }, call) => {
      // the gateway sets the model name and return_token_ids, and adds logprobs: true in train mode
      expect(request).toMatchObject({
        model: MODEL_ID,
        stream: false,
        return_token_ids: true,
        logprobs: true,
      })
      expect(request.prompt).toEqual(records[call]!.promptTokenIds)
      const choice = (response.choices as Array<{ prompt_token_ids: number[]; token_ids: number[] }>)[0]!
      expect(choice.prompt_token_ids).toEqual(records[call]!.promptTokenIds)
      expect(choice.token_ids).toEqual(records[call]!.tokenIds)
    })
    expect(records.map((record) => [record.tokenIn?.mode, record.verification.status])).toEqual([
      ['rendered', 'verified'],
      ['appended', 'verified'],
      ['appended', 'verified'],
      ['appended', 'verified'],
    ])
    expect(recorder.history).toEqual(records)
    expect(hooks.totals).toMatchObject({ unknown: 0, invalid: 0 })
    const trajectory = buildTrajectory(recorder.history, { specialTokenIds: QWEN3_SPECIAL_TOKEN_IDS })
    expect(trajectory.metrics).toMatchObject({ sequences: 1, turnsMerged: 3 })
  })
})
