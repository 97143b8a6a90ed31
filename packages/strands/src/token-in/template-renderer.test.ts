// The template cache is shared by every model that renders at one server (mock-vllm's /tokenize over HTTP):
// what one model's cancelled call started must not fail another model's call that waits for the same render.
import { VLLMClient } from '@vllm-tito/client'
import { type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import type { ChatRequest } from '@vllm-tito/spec'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TemplateRenderer, type TokenizeFunction, templateCacheFor } from './template-renderer'

let server: MockVllmServer
beforeAll(async () => {
  server = await startMockVllm()
})
afterAll(async () => {
  await server.close()
})

const chat: ChatRequest = {
  model: 'Qwen/Qwen3-8B',
  messages: [{ role: 'user', content: 'Hi' }],
  tools: [{ type: 'function', function: { name: 'calculator', parameters: { type: 'object' } } }],
}

describe('TemplateRenderer: renders shared between models', () => {
  it('a model whose call is cancelled fails alone; another waiting for the same probe and prefix gets them', async () => {
    const client = new VLLMClient({ baseUrl: server.baseUrl })
    // every /tokenize waits until the test opens the gate, so both models wait for the same renders
    let openGate = () => {}
    const gate = new Promise<void>((resolve) => {
      openGate = resolve
    })
    const tokenize: TokenizeFunction = async (input, options) => {
      await gate
      return client.tokenize(input, options)
    }
    const cache = templateCacheFor(`${server.baseUrl} shared-between-models ${Math.random()}`)
    const first = new TemplateRenderer(tokenize, cache)
    const second = new TemplateRenderer(tokenize, cache)
    const cancelled = new AbortController()
    const firstShape = first.shape(chat, { signal: cancelled.signal })
    const firstPrefixes = first.prefetchPrefixes(chat, { signal: cancelled.signal })
    const secondShape = second.shape(chat, { signal: new AbortController().signal })
    const secondPrefixes = second.prefetchPrefixes(chat, undefined)
    cancelled.abort(new Error('the first agent was cancelled'))
    openGate()
    await expect(firstShape).rejects.toThrow('the first agent was cancelled')
    await expect(firstPrefixes).rejects.toThrow('the first agent was cancelled')
    await expect(secondShape).resolves.toMatchObject({ endOfTurnId: 151645, separatorIds: [198] })
    await expect(secondPrefixes).resolves.toBeUndefined()
    // the renders the cancel cut for the first model stayed in the cache: a third model needs no /tokenize
    const before = server.requests.length
    await new TemplateRenderer(tokenize, cache).shape(chat, undefined)
    expect(server.requests.length).toBe(before)
  })
})
