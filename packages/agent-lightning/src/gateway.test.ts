import { type MockAgentLightningServer, startMockAgentLightning } from '@vllm-tito/mock-agent-lightning'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { EventPostError } from './agent-lightning-errors'
import { agentLightningFromEnv } from './agent-lightning-from-env'

let gateway: MockAgentLightningServer

beforeAll(async () => {
  gateway = await startMockAgentLightning({ key: 'gateway-key' })
})

afterAll(() => gateway.close())

async function newRollout(isTrain = true): Promise<string> {
  const answer = await fetch(`${gateway.url}/api/rollouts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer gateway-key' },
    body: JSON.stringify([{ input: { question: 'What is 2 + 3?', answer: '5' }, is_train: isTrain }]),
  })
  return ((await answer.json()) as Array<{ rollout_id: string }>)[0]!.rollout_id
}

async function tripletEvents(rolloutId: string): Promise<Array<{ event_type: string; data: unknown }>> {
  const answer = await fetch(`${gateway.url}/api/rollouts/${rolloutId}/events?format=triplet`, {
    headers: { authorization: 'Bearer gateway-key' },
  })
  return (await answer.json()) as Array<{ event_type: string; data: unknown }>
}

test('against the gateway stand-in: the environment it hands out, the reward and an event as the trainer sees them', async () => {
  const rolloutId = await newRollout(false)
  const rollout = agentLightningFromEnv(gateway.agentEnvironment(rolloutId))
  expect(rollout.rolloutId).toBe(rolloutId)
  expect(rollout.attemptId).toBe('0')
  expect(rollout.mode).toBe('val')
  expect(rollout.baseUrl).toBe(`${gateway.url}/proxy/rollout/${rolloutId}/attempt/0/mode/val/openai/v1`)
  await rollout.emitEvent('tool_result', { tool: 'calculator', value: 5 })
  const stored = await rollout.emitReward(1, { source: 'agent', message: 'matched 5' })
  expect(stored).toMatchObject({ event_type: 'reward', rollout_id: rolloutId, attempt_id: '0' })
  expect(stored?.data).toEqual({ value: 1, source: 'agent', message: 'matched 5' })
  expect(await tripletEvents(rolloutId)).toMatchObject([
    { event_type: 'tool_result', data: { tool: 'calculator', value: 5 } },
    { event_type: 'reward', data: { value: 1, source: 'agent' } },
  ])
})

test('a wrong key gets the gateway 401 as an EventPostError after one request', async () => {
  const rolloutId = await newRollout()
  const environment = { ...gateway.agentEnvironment(rolloutId), AGL_KEY: 'stale-key' }
  const requestsBefore = gateway.requests.length
  const error = await agentLightningFromEnv(environment)
    .emitReward(0)
    .then(
      () => undefined,
      (failure: unknown) => failure as EventPostError,
    )
  expect(EventPostError.isInstance(error)).toBe(true)
  expect(error?.statusCode).toBe(401)
  expect(error?.message).toBe(
    `could not post the reward event to ${environment.AGL_EVENT_URL}: HTTP 401: Invalid or missing API key (AGL_KEY does not match the gateway key)`,
  )
  expect(gateway.requests.length - requestsBefore).toBe(1)
})

test('a rollout the gateway no longer knows: 404 with its detail, not retried', async () => {
  const rolloutId = await newRollout()
  const rollout = agentLightningFromEnv(gateway.agentEnvironment(rolloutId))
  await fetch(`${gateway.url}/api/rollouts/${rolloutId}`, {
    method: 'DELETE',
    headers: { authorization: 'Bearer gateway-key' },
  })
  const error = (await rollout.emitReward(1).catch((failure: unknown) => failure)) as EventPostError
  expect(error.statusCode).toBe(404)
  expect(error.message).toContain(
    `HTTP 404: Rollout not found: ${rolloutId} (the gateway does not know this rollout`,
  )
})
