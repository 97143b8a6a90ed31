import { InvalidOptionError } from '@vllm-tito/spec'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { post, postRaw, sseChunks, ssePayloads } from './__fixtures__/http'
import type { MockFault, MockVllmOptions, MockVllmServer } from './mock-vllm-options'
import { startMockVllm } from './start-mock-vllm'

const stream = {
  model: 'Qwen/Qwen3-8B',
  messages: [{ role: 'user', content: 'Hi' }],
  stream: true,
  return_token_ids: true,
}
const nonStream = { ...stream, stream: false }

const servers: MockVllmServer[] = []
async function start(options: MockVllmOptions = {}): Promise<MockVllmServer> {
  const server = await startMockVllm({ policy: { script: ['Hello there!'] }, ...options })
  servers.push(server)
  return server
}
afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()))
})

let server: MockVllmServer
beforeAll(async () => {
  server = await start()
})

const faultHeader = (fault: MockFault) => ({ 'x-mock-fault': JSON.stringify(fault) })

describe('http-status faults', () => {
  it('answers 429 with Retry-After and a vLLM error body', async () => {
    const result = await postRaw(
      server.baseUrl,
      '/v1/chat/completions',
      stream,
      faultHeader({ kind: 'http-status', status: 429 }),
    )
    expect(result.status).toBe(429)
    expect(result.headers['retry-after']).toBe('1')
    expect(result.text).toBe(
      '{"error":{"message":"Too many requests.","type":"RateLimitError","param":null,"code":429}}',
    )
    const custom = await postRaw(
      server.baseUrl,
      '/v1/chat/completions',
      stream,
      faultHeader({ kind: 'http-status', status: 429, retryAfterSeconds: 7 }),
    )
    expect(custom.headers['retry-after']).toBe('7')
  })

  it('fails only the configured request indices with 503', async () => {
    const flaky = await start({ faults: [{ kind: 'http-status', status: 503, when: { requestIndex: [1] } }] })
    const statuses = []
    for (let index = 0; index < 3; index += 1) {
      statuses.push((await post(flaky.baseUrl, '/v1/chat/completions', nonStream)).status)
    }
    expect(statuses).toEqual([200, 503, 200])
  })

  it('draws probabilistic faults from the seed: same seed, same failing requests', async () => {
    const failures = async (seed: number) => {
      const flaky = await start({
        seed,
        faults: [{ kind: 'http-status', status: 500, when: { probability: 0.5 } }],
      })
      const failed: number[] = []
      for (let index = 0; index < 16; index += 1) {
        if ((await post(flaky.baseUrl, '/v1/chat/completions', nonStream)).status === 500) failed.push(index)
      }
      return failed
    }
    const first = await failures(42)
    expect(await failures(42)).toEqual(first)
    expect(first.length).toBeGreaterThan(0)
    expect(first.length).toBeLessThan(16)
    expect(await failures(43)).not.toEqual(first)
  })
})

describe('stream faults', () => {
  it('resets the connection after k data chunks', async () => {
    const result = await postRaw(
      server.baseUrl,
      '/v1/chat/completions',
      stream,
      faultHeader({ kind: 'reset', afterChunks: 2 }),
    )
    expect(result.status).toBe(200)
    expect(result.broken).toBe(true)
    expect(ssePayloads(result.text)).toHaveLength(2)
  })

  it('stalls for ms after k chunks, then continues to [DONE]', async () => {
    const result = await postRaw(
      server.baseUrl,
      '/v1/chat/completions',
      stream,
      faultHeader({ kind: 'stall', afterChunks: 1, ms: 300 }),
    )
    expect(sseChunks(result.text)).toHaveLength(5)
    expect(result.arrivals[result.arrivals.length - 1]! - result.arrivals[0]!).toBeGreaterThanOrEqual(290)
  })

  it('sends one malformed JSON line after k chunks', async () => {
    const result = await postRaw(
      server.baseUrl,
      '/v1/chat/completions',
      stream,
      faultHeader({ kind: 'malformed-chunk', afterChunks: 1 }),
    )
    const payloads = ssePayloads(result.text)
    expect(payloads[1]).toBe('{not json')
    expect(payloads).toHaveLength(7)
    expect(payloads[6]).toBe('[DONE]')
  })

  it('sends token_ids of a wrong type in the next chunk with ids', async () => {
    const result = await postRaw(
      server.baseUrl,
      '/v1/chat/completions',
      stream,
      faultHeader({ kind: 'wrong-token-ids-type', afterChunks: 1 }),
    )
    const chunks = sseChunks(result.text)
    expect(chunks[1]!.choices[0]!.token_ids).toBe('9707')
    expect(chunks[2]!.choices[0]!.token_ids).toEqual([1052])
  })

  it('ends the stream without data: [DONE]', async () => {
    const result = await postRaw(
      server.baseUrl,
      '/v1/chat/completions',
      stream,
      faultHeader({ kind: 'missing-done' }),
    )
    const payloads = ssePayloads(result.text)
    expect(result.broken).toBe(false)
    expect(payloads).toHaveLength(5)
    expect(payloads).not.toContain('[DONE]')
  })

  it('applies configured faults to streams too (mid-stream error with the default 500)', async () => {
    const failing = await start({ faults: [{ kind: 'mid-stream-error', afterChunks: 1 }] })
    const result = await postRaw(failing.baseUrl, '/v1/completions', { prompt: 'Hi', stream: true })
    expect(ssePayloads(result.text)).toEqual([
      expect.stringMatching(/^\{"id":"cmpl-/),
      '{"error": {"message": "The engine failed while generating.", "type": "InternalServerError", "param": null, "code": 500}}',
      '[DONE]',
    ])
  })
})

describe('non-stream faults', () => {
  it('resets before answering', async () => {
    const result = await postRaw(
      server.baseUrl,
      '/v1/chat/completions',
      nonStream,
      faultHeader({ kind: 'reset', afterChunks: 0 }),
    )
    expect(result.broken).toBe(true)
    expect(result.status).toBe(0)
  })

  it('sends a truncated body and ids as a string', async () => {
    const malformed = await postRaw(
      server.baseUrl,
      '/v1/chat/completions',
      nonStream,
      faultHeader({ kind: 'malformed-chunk', afterChunks: 0 }),
    )
    expect(() => JSON.parse(malformed.text)).toThrow(SyntaxError)
    const wrong = await postRaw(
      server.baseUrl,
      '/v1/chat/completions',
      nonStream,
      faultHeader({ kind: 'wrong-token-ids-type', afterChunks: 0 }),
    )
    expect(JSON.parse(wrong.text).choices[0].token_ids).toBe('9707,1052,0,151645')
  })
})

describe('fault validation', () => {
  it('rejects a bad x-mock-fault header with a 400 naming the header', async () => {
    const notJson = await post(server.baseUrl, '/v1/chat/completions', stream, { 'x-mock-fault': '{kind' })
    expect(notJson.status).toBe(400)
    expect(JSON.parse(notJson.text).error.message).toBe('x-mock-fault header is not valid JSON: {kind')
    const badKind = await post(server.baseUrl, '/v1/chat/completions', stream, {
      'x-mock-fault': '{"kind":"explode"}',
    })
    expect(JSON.parse(badKind.text).error.message).toMatch(
      /^x-mock-fault: option `kind` must be one of 'http-status', 'reset', /,
    )
  })

  it('rejects bad configured faults at start-up with an InvalidOptionError naming the fault and key', async () => {
    const error = await startMockVllm({ faults: [{ kind: 'reset', afterChunks: -1 }] }).catch(
      (caught: unknown) => caught,
    )
    expect(InvalidOptionError.isInstance(error)).toBe(true)
    expect((error as InvalidOptionError).message).toBe(
      'startMockVllm faults[0]: option `afterChunks` must be an integer >= 0, got -1',
    )
  })
})
