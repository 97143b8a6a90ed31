import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { get, post, postRaw, sseChunks, streamedIds } from './__fixtures__/http'
import type { MockFault, MockVllmServer } from './mock-vllm-options'
import { startMockVllm } from './start-mock-vllm'

const MODEL = 'Qwen/Qwen3-8B'
const chat = {
  model: MODEL,
  messages: [{ role: 'user', content: 'Hi' }],
  return_token_ids: true,
}

/** The two counters of one scrape of `GET /metrics`. */
async function scrape(server: MockVllmServer): Promise<{ prompt: number; generation: number }> {
  const { text } = await get(server.baseUrl, '/metrics')
  const value = (name: string) => {
    const match = new RegExp(`^${name}\\{model_name="${MODEL}",engine="0"\\} (\\d+\\.\\d)$`, 'm').exec(text)
    if (!match) throw new Error(`no ${name} sample in:\n${text}`)
    return Number(match[1])
  }
  return { prompt: value('vllm:prompt_tokens_total'), generation: value('vllm:generation_tokens_total') }
}

let server: MockVllmServer
beforeAll(async () => {
  server = await startMockVllm({
    model: MODEL,
    policy: { script: ['Hello there, this is the mock speaking.'] },
  })
})
afterAll(async () => {
  await server.close()
})

describe('GET /metrics', () => {
  it("serves vLLM's two token counters in the Prometheus text format, starting at zero", async () => {
    const fresh = await startMockVllm({ model: MODEL })
    try {
      const result = await get(fresh.baseUrl, '/metrics')
      expect(result.status).toBe(200)
      expect(result.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
      expect(result.text).toBe(
        [
          '# HELP vllm:prompt_tokens_total Number of prefill tokens processed.',
          '# TYPE vllm:prompt_tokens_total counter',
          'vllm:prompt_tokens_total{model_name="Qwen/Qwen3-8B",engine="0"} 0.0',
          '# HELP vllm:generation_tokens_total Number of generation tokens processed.',
          '# TYPE vllm:generation_tokens_total counter',
          'vllm:generation_tokens_total{model_name="Qwen/Qwen3-8B",engine="0"} 0.0',
          '',
        ].join('\n'),
      )
    } finally {
      await fresh.close()
    }
  })

  it('a streamed chat call adds its prompt ids and every sampled id (EOS included) to the counters', async () => {
    const before = await scrape(server)
    const chunks = sseChunks(
      (await post(server.baseUrl, '/v1/chat/completions', { ...chat, stream: true })).text,
    )
    const after = await scrape(server)
    const promptIds = chunks[0]!.prompt_token_ids!
    const completionIds = streamedIds(chunks)
    expect(completionIds.at(-1)).toBe(151645)
    expect(after.prompt - before.prompt).toBe(promptIds.length)
    expect(after.generation - before.generation).toBe(completionIds.length)
  })

  it('n choices count the prompt n times and the ids of every choice (completions, non-streaming)', async () => {
    const before = await scrape(server)
    const body = JSON.parse(
      (
        await post(server.baseUrl, '/v1/completions', {
          model: MODEL,
          prompt: 'Once upon a time',
          n: 3,
          max_tokens: 4,
          return_token_ids: true,
        })
      ).text,
    )
    const after = await scrape(server)
    expect(body.choices).toHaveLength(3)
    expect(after.prompt - before.prompt).toBe(3 * body.usage.prompt_tokens)
    expect(after.generation - before.generation).toBe(body.usage.completion_tokens)
    expect(body.usage.completion_tokens).toBe(12)
  })

  it('a request refused before generation (HTTP 429 fault, bad request) counts nothing', async () => {
    const before = await scrape(server)
    const fault: MockFault = { kind: 'http-status', status: 429 }
    const refused = await post(server.baseUrl, '/v1/chat/completions', chat, {
      'x-mock-fault': JSON.stringify(fault),
    })
    const invalid = await post(server.baseUrl, '/v1/chat/completions', { model: MODEL })
    expect([refused.status, invalid.status]).toEqual([429, 400])
    expect(await scrape(server)).toEqual(before)
  })

  it('a stream reset after two chunks still counts every sampled id: more than the client received', async () => {
    const before = await scrape(server)
    const fault: MockFault = { kind: 'reset', afterChunks: 2 }
    const exchange = await postRaw(
      server.baseUrl,
      '/v1/chat/completions',
      { ...chat, stream: true },
      { 'x-mock-fault': JSON.stringify(fault) },
    )
    const after = await scrape(server)
    expect(exchange.broken).toBe(true)
    const complete = JSON.parse((await post(server.baseUrl, '/v1/chat/completions', chat)).text)
    // the same script answers every call: the reset call sampled the whole reply, the client got two chunks
    expect(after.generation - before.generation).toBe(complete.usage.completion_tokens)
    expect(
      exchange.text.split('\n\n').filter((event) => event.includes('"token_ids":[')).length,
    ).toBeLessThan(complete.usage.completion_tokens)
  })
})
