import { join } from 'node:path'
import { type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RolloutResult } from '../rollout-types'
import { runRollouts } from '../run-rollouts'
import { loadAgentModule } from './load-agent-module'

const MODEL = 'Qwen/Qwen3-8B'
const fixture = (name: string) => join(import.meta.dirname, '..', '__fixtures__', name)
let server: MockVllmServer

beforeAll(async () => {
  server = await startMockVllm({ model: MODEL, policy: { script: ['Four.'] } })
})
afterAll(async () => {
  await server.close()
})

async function runWith(path: string | undefined): Promise<RolloutResult> {
  const agent = await loadAgentModule(path, 'vllm-tito rollouts')
  const results: RolloutResult[] = []
  for await (const result of runRollouts({
    tasks: [{ id: 'q', question: 'What is 2 + 2?', answer: 'Four' }],
    rollout: agent.rollout,
    reward: agent.reward,
    baseUrl: server.baseUrl,
    modelId: MODEL,
  })) {
    results.push(result)
  }
  return results[0]!
}

describe('loadAgentModule', () => {
  it("runs a module's createAgent through agentRollout and uses its reward", async () => {
    const result = await runWith(fixture('agent-module-create-agent.ts'))
    expect([result.status, result.answer, result.reward]).toEqual(['succeeded', 'Four.', 5])
  })

  it("runs a module's rollout function with the default reward", async () => {
    const before = server.requests.length
    const result = await runWith(fixture('agent-module-rollout.ts'))
    expect([result.status, result.reward]).toEqual(['succeeded', 1])
    const body = server.requests[before]!.body as { messages: Array<{ role: string; content: string }> }
    expect(body.messages[0]).toEqual({ role: 'system', content: 'Answer briefly.' })
  })

  it('names the module when it cannot be imported or exports neither contract', async () => {
    await expect(loadAgentModule(fixture('agent-module-empty.ts'), 'vllm-tito rollouts')).rejects.toThrow(
      /agent-module-empty\.ts exports neither createAgent\(context\) \(a Strands agent factory\) nor rollout\(context\)/,
    )
    await expect(loadAgentModule('/no/such/agent.ts', 'vllm-tito rollouts')).rejects.toThrow(
      /vllm-tito rollouts: cannot import \/no\/such\/agent\.ts/,
    )
    await expect(
      loadAgentModule(fixture('agent-module-bad-first-request.ts'), 'vllm-tito rollouts'),
    ).rejects.toThrow(/agent-module-bad-first-request\.ts exports a `firstRequest` that is not a function/)
  })

  it('gives the calculator agent its firstRequest, a module its own, and none to a module without one', async () => {
    expect(typeof (await loadAgentModule(undefined, 'vllm-tito rollouts')).firstRequest).toBe('function')
    const withOne = await loadAgentModule(
      fixture('agent-module-broken-task-first-request.ts'),
      'vllm-tito rollouts',
    )
    expect(typeof withOne.firstRequest).toBe('function')
    const without = await loadAgentModule(fixture('agent-module-create-agent.ts'), 'vllm-tito rollouts')
    expect(without.firstRequest).toBeUndefined()
  })
})
