import { InvalidOptionError, type TokenStreamingClient } from '@vllm-tito/spec'
import { describe, expect, it } from 'vitest'
import { VLLMModel } from '../vllm-model'
import type { VLLMModelOptions } from '../vllm-model-config'

const MODEL = { baseUrl: 'http://127.0.0.1:1', modelId: 'Qwen/Qwen3-8B' }
const notCalled = () => {
  throw new Error('not called')
}
const chatOnly: TokenStreamingClient = { chat: { stream: notCalled } }

function refusal(options: VLLMModelOptions): { option: string; message: string } {
  try {
    new VLLMModel(options)
  } catch (error) {
    if (InvalidOptionError.isInstance(error)) return { option: error.option, message: error.message }
    throw error
  }
  throw new Error('the options were accepted')
}

describe('the tokenIn option', () => {
  it('takes true, false or { tokenizeBaseUrl } and is part of the config', () => {
    expect(new VLLMModel({ ...MODEL, tokenIn: true }).getConfig().tokenIn).toBe(true)
    const model = new VLLMModel({ ...MODEL, tokenIn: { tokenizeBaseUrl: 'http://127.0.0.1:2' } })
    expect(model.getConfig().tokenIn).toEqual({ tokenizeBaseUrl: 'http://127.0.0.1:2' })
    model.updateConfig({ tokenIn: false })
    expect(model.getConfig().tokenIn).toBe(false)
  })

  it('refuses a wrong value, a misspelt or empty option, and returnTokenIds: false', () => {
    expect(refusal({ ...MODEL, tokenIn: 'yes' as never })).toEqual({
      option: 'tokenIn',
      message: 'new VLLMModel: option `tokenIn` must be `true`, `false` or an object, got the string "yes"',
    })
    expect(refusal({ ...MODEL, tokenIn: { tokenizeBaseUr: 'x' } as never })).toEqual({
      option: 'tokenizeBaseUr',
      message:
        'new VLLMModel tokenIn: unknown option `tokenizeBaseUr` (did you mean `tokenizeBaseUrl`?); known options: tokenizeBaseUrl, tokenizeModelId',
    })
    expect(refusal({ ...MODEL, tokenIn: { tokenizeBaseUrl: '' } })).toMatchObject({
      option: 'tokenizeBaseUrl',
    })
    expect(refusal({ ...MODEL, tokenIn: { tokenizeModelId: 'Qwen/Qwen3-8B' } })).toEqual({
      option: 'tokenizeModelId',
      message:
        'new VLLMModel tokenIn: `tokenizeModelId` names the model of the `tokenizeBaseUrl` server; set that too',
    })
    expect(refusal({ ...MODEL, tokenIn: true, returnTokenIds: false })).toEqual({
      option: 'returnTokenIds',
      message: 'new VLLMModel: `returnTokenIds: false` cannot go with `tokenIn`: token-in mode keeps the ids',
    })
  })

  it('refuses a passed client without what the mode calls', () => {
    expect(refusal({ modelId: MODEL.modelId, client: chatOnly, tokenIn: true })).toEqual({
      option: 'tokenIn',
      message:
        'new VLLMModel: `tokenIn` needs a client with completions.stream (a VLLMClient has it); the given client has none',
    })
    const completions = { ...chatOnly, completions: { stream: notCalled } }
    expect(refusal({ modelId: MODEL.modelId, client: completions, tokenIn: true })).toEqual({
      option: 'tokenIn',
      message:
        'new VLLMModel: `tokenIn` needs a client with tokenize, or `tokenIn.tokenizeBaseUrl` naming the vLLM server to render with',
    })
    const withRenderer = {
      modelId: MODEL.modelId,
      client: completions,
      tokenIn: { tokenizeBaseUrl: MODEL.baseUrl },
    }
    expect(new VLLMModel(withRenderer).getConfig().tokenIn).toEqual({ tokenizeBaseUrl: MODEL.baseUrl })
    expect(refusal({ ...withRenderer, stream: false })).toMatchObject({
      option: 'stream',
      message: expect.stringContaining('completions.createEvents'),
    })
  })
})

describe('the key sent to the tokenizeBaseUrl server', () => {
  /** A loopback server that answers every request with a 500 and remembers its Authorization header. */
  async function recordingServer(): Promise<{ url: string; headers: string[]; close(): Promise<void> }> {
    const { createServer } = await import('node:http')
    const headers: string[] = []
    const server = createServer((request, response) => {
      headers.push(request.headers.authorization ?? '(none)')
      response.writeHead(500, { 'content-type': 'application/json' })
      response.end('{"error":{"message":"stop here","type":"InternalServerError","param":null,"code":500}}')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const address = server.address() as { port: number }
    return {
      url: `http://127.0.0.1:${address.port}`,
      headers,
      close: () => new Promise((resolve) => server.close(() => resolve())),
    }
  }

  async function firstCall(model: VLLMModel): Promise<void> {
    const events = model.stream([{ role: 'user', content: [{ type: 'textBlock', text: 'hi' }] }] as never)
    await events.next().catch(() => undefined)
  }

  it('is tokenizeApiKey, never the model apiKey (which may be a gateway key)', async () => {
    const server = await recordingServer()
    try {
      await firstCall(
        new VLLMModel({
          ...MODEL,
          apiKey: 'gateway-secret',
          tokenIn: { tokenizeBaseUrl: server.url },
          tokenizeApiKey: 'vllm-key',
        }),
      )
      await firstCall(
        new VLLMModel({ ...MODEL, apiKey: 'gateway-secret', tokenIn: { tokenizeBaseUrl: server.url } }),
      )
      expect(server.headers.length).toBeGreaterThan(0)
      expect(new Set(server.headers)).toEqual(new Set(['Bearer vllm-key', 'Bearer EMPTY']))
    } finally {
      await server.close()
    }
  })
})
