// How token-in mode keeps its one sequence against mock-vllm over HTTP: it renders from scratch, and says why
// in the record, whenever the history is not the one its ids stand for; it keeps state only from whole
// replies; it refuses what it cannot do exactly.
import { Message, ModelError, TextBlock } from '@strands-agents/sdk'
import { VLLMClient } from '@vllm-tito/client'
import { type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import { extractTokenRecord, type RenderedChatTemplate, type TokenRecord } from '@vllm-tito/spec'
import { buildTrajectory } from '@vllm-tito/trajectory'
import { afterEach, describe, expect, it } from 'vitest'
import { calculatorAgent, calculatorPolicy, MODEL_ID } from '../__fixtures__/token-in-rollouts'
import { VLLMModel } from '../vllm-model'
import { TokenInError } from './token-in-error'

const servers: MockVllmServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()))
})
async function startServer(options: Parameters<typeof startMockVllm>[0] = {}): Promise<MockVllmServer> {
  const server = await startMockVllm({ policy: { script: calculatorPolicy }, ...options })
  servers.push(server)
  return server
}

const user = (text: string) => new Message({ role: 'user', content: [new TextBlock(text)] })

/** One model call outside an agent, as the agent makes it; returns the aggregated message and its record. */
async function callModel(
  model: VLLMModel,
  messages: Message[],
): Promise<{ message: Message; record: TokenRecord }> {
  const stream = model.streamAggregated(messages)
  let step = await stream.next()
  while (!step.done) step = await stream.next()
  const record = extractTokenRecord(step.value.message.metadata?.custom?.vllm)
  if (record === undefined) throw new Error('the message carries no record')
  return { message: step.value.message, record }
}

async function failure(promise: Promise<unknown>): Promise<ModelError> {
  const error = await promise.catch((caught: unknown) => caught)
  if (!(error instanceof ModelError)) throw new Error(`expected a ModelError, got ${String(error)}`)
  return error
}

describe('token-in mode re-renders, and says why, when the history is not what its ids stand for', () => {
  it('a trimmed history and an edited reply are rendered from scratch; the builder reports the reason', async () => {
    const server = await startServer()
    const { agent, records } = calculatorAgent(server, { tokenIn: true, thinking: true })
    await agent.invoke('Hello')
    await agent.invoke('Hi again')
    agent.messages.splice(0, 2)
    await agent.invoke('Third time')
    agent.messages[3] = new Message({ role: 'assistant', content: [new TextBlock('Edited.')] })
    await agent.invoke('Fourth time')
    expect(
      records.map((record) => [record.tokenIn?.mode, record.tokenIn?.renderReason, record.tokenIn?.detail]),
    ).toEqual([
      ['rendered', 'first-call', null],
      ['appended', null, null],
      [
        'rendered',
        'history-changed',
        'the conversation has 3 message(s); the kept sequence stands for 3 and the reply',
      ],
      ['rendered', 'reply-changed', 'message 3 is not the reply the model produced'],
    ])
    const trajectory = buildTrajectory(records)
    expect(trajectory.metrics.sequences).toBe(3)
    expect(trajectory.breaks.map((finding) => finding.tokenIn)).toEqual(['history-changed', 'reply-changed'])
  })

  it('a new system prompt is a settings change', async () => {
    const server = await startServer()
    const model = new VLLMModel({ baseUrl: server.baseUrl, modelId: MODEL_ID, tokenIn: true })
    const first = await callModel(model, [user('Hello')])
    const stream = model.streamAggregated([user('Hello'), first.message, user('Again')], {
      systemPrompt: 'Be kind.',
    })
    let step = await stream.next()
    while (!step.done) step = await stream.next()
    const record = extractTokenRecord(step.value.message.metadata?.custom?.vllm)
    expect(record?.tokenIn).toMatchObject({
      renderReason: 'settings-changed',
      detail: 'the system prompt changed',
    })
  })
})

describe('token-in mode keeps state only from whole replies', () => {
  it('a failed call leaves the kept sequence as it was: the retry appends to the last good reply', async () => {
    const server = await startServer({
      faults: [{ kind: 'http-status', status: 500, when: { requestIndex: [1] } }],
    })
    // no client retries, so the fault reaches the model call
    const client = new VLLMClient({ baseUrl: server.baseUrl, maxRetries: 0 })
    const model = new VLLMModel({ client, modelId: MODEL_ID, tokenIn: true })
    const first = await callModel(model, [user('Hello')])
    const history = [user('Hello'), first.message, user('Again')]
    const failed = await failure(callModel(model, history))
    expect(failed.message).toMatch(/500/)
    const retried = await callModel(model, history)
    const kept = [...first.record.promptTokenIds!, ...first.record.tokenIds!]
    expect(retried.record.tokenIn).toMatchObject({ mode: 'appended', keptLength: kept.length })
    expect(retried.record.promptTokenIds!.slice(0, kept.length)).toEqual(kept)
  })

  it('a response without token ids leaves nothing to append to: the next call renders, saying so', async () => {
    const server = await startServer()
    const strip: typeof fetch = async (input, init) => {
      const response = await fetch(input, init)
      if (!String(input instanceof Request ? input.url : input).endsWith('/v1/completions')) return response
      const body = (await response.json()) as { choices: Array<Record<string, unknown>> }
      for (const choice of body.choices) choice.token_ids = null
      return new Response(JSON.stringify(body), { status: response.status })
    }
    const client = new VLLMClient({ baseUrl: server.baseUrl, fetch: strip })
    const model = new VLLMModel({ client, modelId: MODEL_ID, tokenIn: true, stream: false })
    const first = await callModel(model, [user('Hello')])
    expect(first.record.tokenIds).toBeNull()
    const next = await callModel(model, [user('Hello'), first.message, user('Again')])
    expect(next.record.tokenIn).toMatchObject({
      mode: 'rendered',
      renderReason: 'ids-missing',
      detail: 'the previous response carried no token ids',
    })
  })
})

describe('token-in mode asks for what the chat request would', () => {
  it('chat-style logprobs become the completions form; the record aligns them with the ids', async () => {
    const server = await startServer()
    const model = new VLLMModel({
      baseUrl: server.baseUrl,
      modelId: MODEL_ID,
      tokenIn: true,
      maxTokens: 64,
      params: { logprobs: true, top_logprobs: 2 },
    })
    const { record } = await callModel(model, [user('Hello')])
    const request = server.requests.find((entry) => entry.path === '/v1/completions')!.body
    expect(request).toMatchObject({ logprobs: 2, max_tokens: 64, prompt: record.promptTokenIds })
    expect(request).not.toHaveProperty('top_logprobs')
    expect(record.logprobs).toHaveLength(record.tokenIds!.length)
    expect(record.topLogprobs!.every((alternatives) => alternatives.length <= 3)).toBe(true)
  })
})

describe('token-in mode refuses what it cannot do exactly', () => {
  it('a second call while one runs, and a forced tool choice', async () => {
    const server = await startServer({ pacing: { firstTokenDelayMs: 50 } })
    const model = new VLLMModel({ baseUrl: server.baseUrl, modelId: MODEL_ID, tokenIn: true })
    const running = callModel(model, [user('Hello')])
    const concurrent = await failure(callModel(model, [user('Hello')]))
    expect(TokenInError.isInstance(concurrent.cause) && concurrent.cause.code).toBe('concurrent-call')
    await running
    const forced = await failure(
      (async () => {
        for await (const _ of model.stream([user('Hello')], { toolChoice: { any: {} } })) {
          // the call fails before any event
        }
      })(),
    )
    expect(TokenInError.isInstance(forced.cause) && forced.cause.code).toBe('tool-choice')
  })

  it('an unsupported template at the first call, before anything is generated', async () => {
    const server = await startServer()
    const client = new VLLMClient({ baseUrl: server.baseUrl })
    const llama: RenderedChatTemplate = {
      tokenIds: [1, 2, 3],
      tokenStrings: ['<|start_header_id|>', 'user', '<|eot_id|>'],
      maxModelLen: 8192,
    }
    const model = new VLLMModel({
      client: { chat: client.chat, completions: client.completions, tokenize: async () => llama },
      modelId: MODEL_ID,
      tokenIn: true,
    })
    const refused = await failure(callModel(model, [user('Hello')]))
    expect(TokenInError.isInstance(refused.cause) && refused.cause.code).toBe('unsupported-template')
    expect(refused.message).toMatch(/^token-in mode supports ChatML chat templates with hermes tool calls/)
    expect(server.requests.filter((request) => request.path === '/v1/completions')).toEqual([])
  })
})
