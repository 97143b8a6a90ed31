// What a README snippet runs against in the tests: mock-vllm on a free loopback port standing in for the
// "vLLM server at localhost:8000" the READMEs talk to and, for an Agent Lightning agent, the gateway stand-in
// with a rollout created on it, whose variables the controller would set.
import { type MockAgentLightningServer, startMockAgentLightning } from '@vllm-tito/mock-agent-lightning'
import { type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'

const MODEL = 'Qwen/Qwen3-8B'
const GATEWAY_KEY = 'snippet-key'
/** The addresses the READMEs give for "your vLLM server". */
const README_SERVER = /http:\/\/(?:localhost|127\.0\.0\.1):8000/g

export interface SnippetEnvironment {
  vllm: MockVllmServer
  /** The gateway, for a snippet that reads `AGL_*` variables. */
  gateway: MockAgentLightningServer | undefined
  /** The rollout created on the gateway. */
  rolloutId: string | undefined
  /** Variables to run the snippet with. */
  variables: Record<string, string>
  close(): Promise<void>
}

/** Starts what `code` needs. */
export async function startSnippetEnvironment(code: string): Promise<SnippetEnvironment> {
  const vllm = await startMockVllm({ model: MODEL })
  if (!code.includes('AGL_') && !code.includes('agentLightningFromEnv')) {
    return { vllm, gateway: undefined, rolloutId: undefined, variables: {}, close: () => vllm.close() }
  }
  const gateway = await startMockAgentLightning({
    key: GATEWAY_KEY,
    modelName: MODEL,
    models: [{ model: MODEL, endpoint: `${vllm.baseUrl}/v1` }],
    upstreamRetryBaseDelayMs: 10,
    upstreamRetryCapDelayMs: 50,
  })
  const created = await fetch(`${gateway.url}/api/rollouts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${GATEWAY_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify([{ input: { question: 'What is 2 + 3?', answer: '5' } }]),
  })
  const [rollout] = (await created.json()) as { rollout_id: string }[]
  const rolloutId = rollout!.rollout_id
  return {
    vllm,
    gateway,
    rolloutId,
    variables: { ...gateway.agentEnvironment(rolloutId), QUESTION: 'What is 2 + 3?', ANSWER: '5' },
    close: async () => {
      await gateway.close()
      await vllm.close()
    },
  }
}

/** `code` pointed at the mock: the README's server address replaced by the mock's. */
export function pointedAtMock(code: string, vllm: MockVllmServer): string {
  return code.replace(README_SERVER, vllm.baseUrl)
}
