import { afterAll, describe, expect, it } from 'vitest'
import { get, post, postRaw, sseChunks, streamedIds } from './__fixtures__/http'
import type { MockReplyRequest, MockVllmOptions, MockVllmServer } from './mock-vllm-options'
import { startMockVllm } from './start-mock-vllm'

const servers: MockVllmServer[] = []
async function start(options: MockVllmOptions = {}): Promise<MockVllmServer> {
  const server = await startMockVllm(options)
  servers.push(server)
  return server
}
afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()))
})

const calculator = {
  type: 'function',
  function: {
    name: 'calculator',
    parameters: { type: 'object', properties: { expression: { type: 'string' } } },
  },
}

async function chat(server: MockVllmServer, body: Record<string, unknown>) {
  const result = await post(server.baseUrl, '/v1/chat/completions', { model: 'Qwen/Qwen3-8B', ...body })
  expect(result.status).toBe(200)
  return JSON.parse(result.text)
}

describe('startMockVllm', () => {
  it('listens on 127.0.0.1 with a free port and logs every request', async () => {
    const server = await start()
    expect(server.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    await post(server.baseUrl, '/tokenize', { prompt: 'Hi' }, { 'x-trace': 'abc' })
    await get(server.baseUrl, '/health')
    expect(server.requests.map(({ method, path, body }) => ({ method, path, body }))).toEqual([
      { method: 'POST', path: '/tokenize', body: { prompt: 'Hi' } },
      { method: 'GET', path: '/health', body: null },
    ])
    expect(server.requests[0]!.headers['x-trace']).toBe('abc')
    expect(server.tokenizer.eosTokenId).toBe(151645)
  })

  it('close() destroys open streams, is idempotent, and leaves no timers behind', async () => {
    const server = await startMockVllm({
      policy: { script: ['Hello there!'] },
      pacing: { interChunkDelayMs: 60_000 },
    })
    const pending = postRaw(server.baseUrl, '/v1/chat/completions', {
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
    })
    await new Promise((resolve) => setTimeout(resolve, 100))
    const started = performance.now()
    const closing = server.close()
    expect(server.close()).toBe(closing)
    await closing
    const result = await pending
    expect(performance.now() - started).toBeLessThan(1000)
    expect(result.broken).toBe(true)
    await expect(fetch(`${server.baseUrl}/health`)).rejects.toThrow()
  })

  it('uses the X-Request-Id header as the random part of the response id', async () => {
    const server = await start({ policy: { script: ['ok'] } })
    const result = await post(
      server.baseUrl,
      '/v1/chat/completions',
      { messages: [{ role: 'user', content: 'Hi' }] },
      { 'x-request-id': 'abc123' },
    )
    expect(JSON.parse(result.text).id).toBe('chatcmpl-abc123')
  })
})

describe('policies', () => {
  it('demo: thinks and calls the calculator, then answers from the tool result', async () => {
    const server = await start()
    const question = [{ role: 'user', content: 'What is 12 * 7?' }]
    const first = await chat(server, { messages: question, tools: [calculator] })
    const message = first.choices[0].message
    expect(message.reasoning).toBe('\nThe user wants 12 * 7. I will use the calculator tool.\n')
    expect(message.tool_calls[0].function).toEqual({
      name: 'calculator',
      arguments: '{"expression": "12 * 7"}',
    })
    expect(first.choices[0].finish_reason).toBe('tool_calls')
    const second = await chat(server, {
      tools: [calculator],
      messages: [
        ...question,
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: message.tool_calls[0].id, type: 'function', function: message.tool_calls[0].function },
          ],
        },
        { role: 'tool', tool_call_id: message.tool_calls[0].id, content: '84' },
      ],
    })
    expect(second.choices[0].message.content).toBe('\n\n12 * 7 is 84.')
    expect(second.choices[0].finish_reason).toBe('stop')
  })

  it('demo: replies politely without a calculator, and skips thinking when enable_thinking is false', async () => {
    const server = await start()
    const polite = await chat(server, {
      messages: [{ role: 'user', content: 'Hello!' }],
      chat_template_kwargs: { enable_thinking: false },
    })
    expect(polite.choices[0].message).toMatchObject({
      content: 'Hello! I am a mock vLLM server. How can I help you today?',
      reasoning: null,
    })
  })

  it('script: a queue whose last entry repeats; functions see the request', async () => {
    const seen: MockReplyRequest[] = []
    const server = await start({
      policy: {
        script: [
          'first',
          (request) => {
            seen.push(request)
            return `second via ${request.endpoint}`
          },
          'last',
        ],
      },
    })
    const replies = []
    for (let index = 0; index < 4; index += 1) {
      const body = await chat(server, { messages: [{ role: 'user', content: `turn ${index}` }] })
      replies.push(body.choices[0].message.content)
    }
    expect(replies).toEqual(['first', 'second via chat', 'last', 'last'])
    expect(seen[0]!.requestIndex).toBe(1)
    expect(seen[0]!.body.messages).toEqual([{ role: 'user', content: 'turn 1' }])
  })

  it('random: N vocabulary tokens plus <|im_end|>, deterministic for a seed, text matching the ids', async () => {
    const first = await start({ policy: { random: { tokens: 64 } }, seed: 5 })
    const second = await start({ policy: { random: { tokens: 64 } }, seed: 5 })
    const request = { messages: [{ role: 'user', content: 'go' }], stream: true, return_token_ids: true }
    const chunksA = sseChunks((await post(first.baseUrl, '/v1/chat/completions', request)).text)
    const chunksB = sseChunks((await post(second.baseUrl, '/v1/chat/completions', request)).text)
    const ids = streamedIds(chunksA)
    expect(ids).toHaveLength(65)
    expect(ids[64]).toBe(151645)
    expect(streamedIds(chunksB)).toEqual(ids)
    const text = chunksA.map((chunk) => chunk.choices[0]?.delta?.content ?? '').join('')
    expect(text).toBe(first.tokenizer.decode(ids.slice(0, 64)))
    const other = await start({ policy: { random: { tokens: 64 } }, seed: 6 })
    expect(
      streamedIds(sseChunks((await post(other.baseUrl, '/v1/chat/completions', request)).text)),
    ).not.toEqual(ids)
  })

  it('nonCanonicalRate splits words so decode(ids) matches but re-encoding drifts', async () => {
    const server = await start({ policy: { script: ['HAVING'] }, nonCanonicalRate: 1 })
    const body = await chat(server, { messages: [{ role: 'user', content: 'x' }], return_token_ids: true })
    const ids: number[] = body.choices[0].token_ids
    expect(ids).toHaveLength(3)
    expect(ids[2]).toBe(151645)
    expect(body.choices[0].message.content).toBe('HAVING')
    expect(server.tokenizer.decode(ids.slice(0, 2))).toBe('HAVING')
    expect(ids.slice(0, 2)).not.toEqual([72239, 1718])
    expect(body.usage.completion_tokens).toBe(3)
  })
})

describe('pacing', () => {
  it('delays the first chunk and spaces the others', async () => {
    const server = await start({
      policy: { script: ['Hello there!'] },
      pacing: { firstTokenDelayMs: 150, interChunkDelayMs: 40 },
    })
    const result = await postRaw(server.baseUrl, '/v1/chat/completions', {
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
    })
    expect(sseChunks(result.text)).toHaveLength(5)
    expect(result.arrivals[0]!).toBeGreaterThanOrEqual(145)
    // five chunks, each followed by a 40 ms pause before the next write
    expect(result.arrivals[result.arrivals.length - 1]! - result.arrivals[0]!).toBeGreaterThanOrEqual(150)
  })
})
