// The agent entry point (`pnpm agl-agent`) as Agent Lightning 1.0 runs it: a child process started from the
// repository root with the controller's variables, against the gateway stand-in in front of mock-vllm. What the
// trainer reads (the triplet view) must hold exactly the ids the client recorded, with one reward.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type MockAgentLightningServer, startMockAgentLightning } from '@vllm-tito/mock-agent-lightning'
import { type MockVllmOptions, type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import { readJsonlRecords } from '@vllm-tito/recorder'
import { afterEach, describe, expect, it } from 'vitest'
import { type AgentRun, hasPython, runAgentProcess } from '../src/shared/agent-process'

const MODEL = 'Qwen/Qwen3-8B'
const KEY = 'agl-test-key'

interface TripletEvent {
  event_type: string
  data: Record<string, unknown>
}

const cleanUps: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const cleanUp of cleanUps.splice(0).reverse()) await cleanUp()
})

async function startStack(vllmOptions: MockVllmOptions = {}) {
  const vllm: MockVllmServer = await startMockVllm({ model: MODEL, ...vllmOptions })
  cleanUps.push(() => vllm.close())
  const gateway: MockAgentLightningServer = await startMockAgentLightning({
    key: KEY,
    models: [{ model: MODEL, endpoint: `${vllm.baseUrl}/v1` }],
  })
  cleanUps.push(() => gateway.close())
  const folder = mkdtempSync(join(tmpdir(), 'agl-agent-'))
  cleanUps.push(() => rmSync(folder, { recursive: true, force: true }))
  return { vllm, gateway, recordsPath: join(folder, 'records.jsonl') }
}

async function newRollout(gateway: MockAgentLightningServer): Promise<string> {
  const answer = await fetch(`${gateway.url}/api/rollouts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify([{ input: { question: 'What is 17 * 23?', answer: '391' }, is_train: true }]),
  })
  return ((await answer.json()) as Array<{ rollout_id: string }>)[0]!.rollout_id
}

async function tripletView(gateway: MockAgentLightningServer, rolloutId: string): Promise<TripletEvent[]> {
  const answer = await fetch(`${gateway.url}/api/rollouts/${rolloutId}/events?format=triplet`, {
    headers: { authorization: `Bearer ${KEY}` },
  })
  return (await answer.json()) as TripletEvent[]
}

/** The controller's environment for the agent: the test's own, minus any VLLM_* of the calling shell. */
function inheritedEnvironment(): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VLLM_')))
}

async function runAgent(environment: Record<string, string | undefined>): Promise<AgentRun> {
  return runAgentProcess({ ...inheritedEnvironment(), ...environment }, { launcher: 'direct' })
}

describe('the agent entry point as Agent Lightning runs it', () => {
  it('exits 0 after one reward of 1; the triplets hold exactly the ids and logprobs of its records', async () => {
    const { gateway, recordsPath } = await startStack()
    const rolloutId = await newRollout(gateway)
    const before = gateway.requests.length
    const run = await runAgent({
      ...gateway.agentEnvironment(rolloutId),
      QUESTION: 'What is 17 * 23?',
      ANSWER: '391',
      VLLM_TITO_RECORDS: recordsPath,
    })
    expect(run.stderr).toBe('')
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toContain('answer: 17 * 23 is 391.\n')
    expect(run.stdout).toContain('reward: 1 posted (answer-matched)\n')
    // only the two proxy calls and the reward reached the gateway: nothing was probed
    const agentRequests = gateway.requests.slice(before)
    expect(agentRequests.map((request) => `${request.method} ${request.url}`)).toEqual([
      `POST /proxy/rollout/${rolloutId}/attempt/0/mode/train/openai/v1/chat/completions`,
      `POST /proxy/rollout/${rolloutId}/attempt/0/mode/train/openai/v1/chat/completions`,
      `POST /api/rollouts/${rolloutId}/attempt/0/events`,
    ])

    const { entries } = await readJsonlRecords(recordsPath)
    const records = entries.map((entry) => entry.record)
    expect(entries.map((entry) => [entry.rolloutId, entry.callIndex])).toEqual([
      [rolloutId, 0],
      [rolloutId, 1],
    ])
    const view = await tripletView(gateway, rolloutId)
    const calls = view.filter((event) => event.event_type === 'model_request')
    expect(calls.map((call) => call.data.prompt_token_ids)).toEqual(
      records.map((record) => record.promptTokenIds),
    )
    expect(calls.map((call) => call.data.response_token_ids)).toEqual(
      records.map((record) => record.tokenIds),
    )
    expect(calls.map((call) => call.data.response_log_probs)).toEqual(
      records.map((record) => record.logprobs),
    )
    expect(records.every((record) => record.verification.status === 'verified')).toBe(true)
    const rewards = view.filter((event) => event.event_type === 'reward')
    expect(rewards.map((event) => event.data)).toEqual([
      { value: 1, source: 'agent', reason: 'answer-matched' },
    ])
    // the raw event keeps the message the triplet view drops
    const stored = gateway.events(rolloutId).filter((event) => event.event_type === 'reward')
    expect(stored.map((event) => event.data)).toEqual([
      { value: 1, source: 'agent', reason: 'answer-matched', message: 'expected "391"' },
    ])
  })

  it('posts 0 for an answer that does not contain ANSWER (calc_x calls it RESULT), and still exits 0', async () => {
    const { gateway } = await startStack()
    const rolloutId = await newRollout(gateway)
    const run = await runAgent({
      ...gateway.agentEnvironment(rolloutId),
      QUESTION: 'What is 17 * 23?',
      RESULT: '392',
    })
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toContain('reward: 0 posted (answer-differs)\n')
    const rewards = (await tripletView(gateway, rolloutId)).filter((event) => event.event_type === 'reward')
    expect(rewards.map((event) => event.data.value)).toEqual([0])
  })

  it('posts 0 when the answer is cut at max_tokens, a policy outcome', async () => {
    const { gateway } = await startStack({ maxModelLen: 400, policy: { script: ['word '.repeat(400)] } })
    const rolloutId = await newRollout(gateway)
    const run = await runAgent({ ...gateway.agentEnvironment(rolloutId), QUESTION: 'Talk.', ANSWER: '391' })
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toMatch(/^answer: word word .* \(cut at max_tokens\)$/m)
    const rewards = (await tripletView(gateway, rolloutId)).filter((event) => event.event_type === 'reward')
    expect(rewards.map((event) => event.data)).toEqual([{ value: 0, source: 'agent', reason: 'max-tokens' }])
  })

  it('exits 2 naming every missing variable, and sends nothing', async () => {
    const { gateway } = await startStack()
    const before = gateway.requests.length
    const run = await runAgent({ AGL_KEY: KEY, QUESTION: '' })
    expect(run.exitCode).toBe(2)
    expect(run.stdout).toBe('')
    expect(run.stderr).toContain('agl-agent: the environment is incomplete:\n')
    for (const problem of [
      '  AGL_OPENAI_BASE_URL: is not set',
      '  AGL_EVENT_URL: is not set',
      '  QUESTION: is empty (the question to answer)',
      '  ANSWER: is not set (the expected answer; RESULT is read when ANSWER is not set)',
    ]) {
      expect(run.stderr).toContain(problem)
    }
    expect(run.stderr).not.toContain('AGL_KEY:')
    expect(gateway.requests.length).toBe(before)
  })

  it('exits 1 without a reward when the gateway refuses the model call', async () => {
    const { gateway } = await startStack()
    const rolloutId = await newRollout(gateway)
    const run = await runAgent({
      ...gateway.agentEnvironment(rolloutId),
      AGL_KEY: 'stale-key',
      QUESTION: 'What is 17 * 23?',
      ANSWER: '391',
    })
    expect(run.exitCode).toBe(1)
    expect(run.stderr).toBe(
      'agl-agent: the rollout failed, no reward posted: ModelError: vLLM /v1/chat/completions returned HTTP 401: Invalid or missing API key\n',
    )
    expect(gateway.events(rolloutId)).toEqual([])
  })

  it.skipIf(!hasPython())(
    'runs the same through ts_agent.py, as local mode loads ts_agent:Agent',
    async () => {
      const { gateway } = await startStack()
      const rolloutId = await newRollout(gateway)
      const run = await runAgentProcess(
        {
          ...inheritedEnvironment(),
          ...gateway.agentEnvironment(rolloutId),
          QUESTION: 'What is 17 * 23?',
          ANSWER: '391',
        },
        { launcher: 'ts_agent.py' },
      )
      expect(run.launcher).toBe('ts_agent.py')
      expect(run.exitCode).toBe(0)
      expect(run.stdout).toContain('reward: 1 posted (answer-matched)\n')
      const view = await tripletView(gateway, rolloutId)
      expect(view.map((event) => event.event_type)).toEqual(['model_request', 'model_request', 'reward'])
    },
  )
})
