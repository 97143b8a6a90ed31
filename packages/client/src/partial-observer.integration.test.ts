// A ClientCallObserver with only some of its methods, over HTTP against the real mock-vllm: the methods it has
// are called, the missing ones are skipped, and the call is unaffected.
import { type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import { APICallError, type ChatRequest, type TokenRecord } from '@vllm-tito/spec'
import { afterEach, describe, expect, it } from 'vitest'
import { VLLMClient } from './vllm-client'

const MODEL = 'Qwen/Qwen3-8B'
const request: ChatRequest = { model: MODEL, messages: [{ role: 'user', content: 'Hi' }] }

let server: MockVllmServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

describe('a partial client observer', () => {
  it('with only onRecords gets the records of stream(), create() and createEvents(), in call order', async () => {
    server = await startMockVllm({ policy: { script: ['One.', 'Two.', 'Three.'] } })
    const seen: TokenRecord[][] = []
    const client = new VLLMClient({
      baseUrl: server.baseUrl,
      observer: { onRecords: (records) => seen.push(records) },
    })
    const streamed = await client.chat.stream(request).final()
    const created = await client.chat.create(request)
    const events = client.chat.createEvents(request)
    for await (const _event of events) {
      // drain: records are handed out at the end of the stream
    }
    const fromEvents = await events.final()
    expect(seen).toEqual([streamed, created, fromEvents])
    expect(seen.map((records) => records.map((record) => record.text))).toEqual([
      ['One.'],
      ['Two.'],
      ['Three.'],
    ])
  })

  it('with only onError hears a failed call; the caller still gets the error', async () => {
    server = await startMockVllm()
    const errors: Error[] = []
    const client = new VLLMClient({
      baseUrl: server.baseUrl,
      observer: { onError: (error) => errors.push(error) },
    })
    // a model the server does not serve: a 404, not retried
    const thrown = await client.chat.create({ ...request, model: 'other' }).catch((error: unknown) => error)
    expect(APICallError.isInstance(thrown)).toBe(true)
    expect((thrown as APICallError).statusCode).toBe(404)
    expect(errors).toEqual([thrown])
  })
})
