import { type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import { StreamInterruptedError, VLLMTitoError } from '@vllm-tito/spec'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { VLLMClient } from './vllm-client'

/**
 * A caller's abort mid-stream keeps what arrived, whatever its reason: the rollout runner aborts a timed-out
 * attempt with its own `RolloutTimeoutError` (a VLLMTitoError), which must not pass for an error of the
 * client's own that carries no partial record (mock-vllm over HTTP: three chunks, then 30 s of silence).
 */

const MODEL = 'Qwen/Qwen3-8B'
let server: MockVllmServer

beforeAll(async () => {
  server = await startMockVllm({ model: MODEL, policy: { script: ['One two three four five six.'] } })
})
afterAll(async () => {
  await server.close()
})

class CallerTimeoutError extends VLLMTitoError {
  override readonly name = 'CallerTimeoutError'
}

describe('a stream aborted by the caller mid-way', () => {
  it.each([
    ['a plain Error', () => new Error('enough')],
    ['a VLLMTitoError', () => new CallerTimeoutError('the attempt took too long')],
  ])(
    'with %s as the reason: StreamInterruptedError with the partial record, the reason as cause',
    async (_, reason) => {
      const client = new VLLMClient({
        baseUrl: server.baseUrl,
        maxRetries: 0,
        defaultHeaders: { 'x-mock-fault': JSON.stringify({ kind: 'stall', afterChunks: 3, ms: 30_000 }) },
      })
      const controller = new AbortController()
      const stream = client.chat.stream(
        { model: MODEL, messages: [{ role: 'user', content: 'Count.' }], return_token_ids: true },
        { signal: controller.signal },
      )
      const cause = reason()
      const error = await (async () => {
        for await (const event of stream) {
          if (event.type === 'token-delta') controller.abort(cause)
        }
      })().catch((caught: unknown) => caught)
      expect(StreamInterruptedError.isInstance(error)).toBe(true)
      const interrupted = error as StreamInterruptedError
      expect(interrupted.message).toBe('the stream was aborted by the caller')
      expect(interrupted.cause).toBe(cause)
      expect(interrupted.partialRecords).toHaveLength(1)
      expect(interrupted.partialRecords[0]!.tokenIds!.length).toBeGreaterThan(0)
      await expect(stream.final()).rejects.toBe(error)
    },
  )
})
