import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import type { ChatMessage } from '@vllm-tito/spec'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { VLLMClient } from './vllm-client'

/**
 * Every call of the client through a base URL with a path prefix, as Agent Lightning's proxy hands it out
 * (`/proxy/rollout/<id>/attempt/<n>/mode/train/openai/v1`): a loopback proxy serves mock-vllm under that
 * prefix only and answers 404 to anything else, so a call that dropped the prefix fails.
 */

const MODEL = 'Qwen/Qwen3-8B'
const PREFIX = '/proxy/rollout/r1/attempt/0/mode/train/openai'
const messages: ChatMessage[] = [{ role: 'user', content: 'Hi' }]

let mock: MockVllmServer
let proxy: Server
let baseUrl: string
const forwarded: string[] = []

async function forward(request: IncomingMessage, response: ServerResponse, target: string): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://proxy')
  if (!url.pathname.startsWith(`${PREFIX}/`)) {
    response.writeHead(404, { 'content-type': 'text/plain' }).end(`no route ${url.pathname}`)
    return
  }
  const path = url.pathname.slice(PREFIX.length)
  forwarded.push(`${request.method} ${path}`)
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  const upstream = await fetch(`${target}${path}`, {
    method: request.method,
    headers: { 'content-type': 'application/json', authorization: request.headers.authorization ?? '' },
    body: request.method === 'GET' ? undefined : Buffer.concat(chunks),
  })
  response.writeHead(upstream.status, {
    'content-type': upstream.headers.get('content-type') ?? 'text/plain',
  })
  if (upstream.body !== null) for await (const piece of upstream.body) response.write(piece)
  response.end()
}

beforeAll(async () => {
  mock = await startMockVllm({ policy: { script: ['Hello there.'] } })
  proxy = createServer((request, response) => {
    forward(request, response, mock.baseUrl).catch(() => response.destroy())
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  baseUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}${PREFIX}/v1`
})

afterAll(async () => {
  proxy.closeAllConnections()
  await new Promise((resolve) => proxy.close(resolve))
  await mock.close()
})

describe('a base URL with a path prefix', () => {
  it('keeps the prefix for chat, completions and every utility endpoint', async () => {
    const client = new VLLMClient({ baseUrl })
    expect(client.baseUrl).toBe(`${baseUrl.slice(0, -'/v1'.length)}`)

    const [streamed] = await client.chat.stream({ model: MODEL, messages }).final()
    const [created] = await client.chat.create({ model: MODEL, messages })
    expect(streamed!.verification.status).toBe('verified')
    expect(created!.tokenIds).toEqual(streamed!.tokenIds)

    const prompt = mock.tokenizer.encode('Once upon a time')
    const [completion] = await client.completions.stream({ model: MODEL, prompt, max_tokens: 8 }).final()
    const [createdCompletion] = await client.completions.create({ model: MODEL, prompt, max_tokens: 8 })
    expect(completion!.promptTokenIds).toEqual(prompt)
    expect(createdCompletion!.promptTokenIds).toEqual(prompt)

    const tokenized = await client.tokenize({ prompt: 'Hello there.' })
    expect(await client.detokenize(tokenized.tokenIds)).toBe('Hello there.')
    expect(await client.health()).toBe(true)
    expect(await client.version()).toMatch(/^\d+\.\d+\.\d+/)
    expect((await client.models()).map((model) => model.id)).toEqual([MODEL])

    expect(forwarded).toEqual([
      'POST /v1/chat/completions',
      'POST /v1/chat/completions',
      'POST /v1/completions',
      'POST /v1/completions',
      'POST /tokenize',
      'POST /detokenize',
      'GET /health',
      'GET /version',
      'GET /v1/models',
    ])
  })

  it('a call without the prefix is what the proxy refuses: the refusal is a 404 APICallError', async () => {
    const withoutPrefix = new VLLMClient({
      baseUrl: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    })
    await expect(withoutPrefix.version()).rejects.toMatchObject({ statusCode: 404, path: '/version' })
    expect(await withoutPrefix.health()).toBe(false)
  })
})
