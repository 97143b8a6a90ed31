import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { post, ssePayloads } from './__fixtures__/http'
import type { MockVllmServer } from './mock-vllm-options'
import { startMockVllm } from './start-mock-vllm'
import { contextOverflowError } from './vllm-errors'

const hi = { model: 'Qwen/Qwen3-8B', messages: [{ role: 'user', content: 'Hi' }] }

let server: MockVllmServer
beforeAll(async () => {
  server = await startMockVllm({ maxModelLen: 20, policy: { script: ['Hello there!'] } })
})
afterAll(async () => {
  await server.close()
})

async function expectError(
  body: unknown,
  status: number,
  error: Record<string, unknown>,
  path = '/v1/chat/completions',
) {
  const result = await post(server.baseUrl, path, body)
  expect(result.status).toBe(status)
  expect(result.headers.get('content-type')).toBe('application/json')
  expect(result.text).toBe(JSON.stringify({ error }))
}

/** vLLM's 400 for a request that fails validation without naming a parameter. */
function badRequest(message: string) {
  return { message, type: 'BadRequestError', param: null, code: 400 }
}

describe('errors', () => {
  it('rejects stream_options without stream', async () => {
    await expectError(
      { ...hi, stream_options: { include_usage: true } },
      400,
      badRequest('Stream options can only be defined when `stream=True`.'),
    )
  })

  it('rejects an empty stop string, alone or in a list, on both endpoints (SamplingParams._verify_args)', async () => {
    const error = badRequest('stop cannot contain an empty string.')
    await expectError({ ...hi, stop: '' }, 400, error)
    await expectError({ ...hi, stop: ['done', ''] }, 400, error)
    await expectError({ model: hi.model, prompt: 'Hi', stop: [''] }, 400, error, '/v1/completions')
  })

  it('rejects prompt_logprobs > 0 or -1 while streaming, accepts 0', async () => {
    const error = badRequest('`prompt_logprobs` are not available when `stream=True`.')
    await expectError({ ...hi, stream: true, prompt_logprobs: 1 }, 400, error)
    await expectError({ ...hi, stream: true, prompt_logprobs: -1 }, 400, error)
    await expectError({ prompt: 'x', stream: true, prompt_logprobs: 2 }, 400, error, '/v1/completions')
    expect(
      (await post(server.baseUrl, '/v1/chat/completions', { ...hi, stream: true, prompt_logprobs: 0 }))
        .status,
    ).toBe(200)
  })

  it('rejects top_logprobs without logprobs', async () => {
    await expectError(
      { ...hi, top_logprobs: 2 },
      400,
      badRequest('when using `top_logprobs`, `logprobs` must be set to true.'),
    )
  })

  it('rejects tool_choice auto when the server lacks the tool-parser flags', async () => {
    const bare = await startMockVllm({ enableAutoToolChoice: false })
    try {
      const result = await post(bare.baseUrl, '/v1/chat/completions', {
        ...hi,
        tools: [{ type: 'function', function: { name: 'f' } }],
      })
      expect(result.status).toBe(400)
      expect(JSON.parse(result.text).error.message).toBe(
        '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set',
      )
    } finally {
      await bare.close()
    }
  })

  it('answers 404 for an unknown model, even with stream:true', async () => {
    await expectError({ ...hi, model: 'gpt-4', stream: true }, 404, {
      message: 'The model `gpt-4` does not exist.',
      type: 'NotFoundError',
      param: 'model',
      code: 404,
    })
    await expectError(
      { prompt: 'x', model: 'gpt-4' },
      404,
      {
        message: 'The model `gpt-4` does not exist.',
        type: 'NotFoundError',
        param: 'model',
        code: 404,
      },
      '/v1/completions',
    )
  })

  it('answers context overflow with the newest wording by default, as 400 before any stream', async () => {
    // the prompt of "Hi" is 9 tokens; 9 + 16 > 20
    await expectError(
      { ...hi, max_tokens: 16, stream: true },
      400,
      badRequest(
        "This model's maximum context length is 20 tokens. However, you requested 16 output tokens and your prompt contains 9 input tokens, for a total of 25 tokens. Please reduce the length of the input prompt or the number of requested output tokens.",
      ),
    )
  })

  it('offers the older overflow wordings', () => {
    expect(contextOverflowError('v0.10', 3, 8, null)?.info.message).toBe(
      "This model's maximum context length is 3 tokens. However, your request has 8 input tokens. Please reduce the length of the input messages.",
    )
    expect(contextOverflowError('v0.10', 20, 9, 16)?.info.message).toBe(
      "'max_tokens' or 'max_completion_tokens' is too large: 16. This model's maximum context length is 20 tokens and your request has 9 input tokens (16 > 20 - 9).",
    )
    expect(contextOverflowError('v0.16', 20, 9, 16)?.info).toEqual({
      message:
        "You passed 9 input tokens and requested 16 output tokens. However, the model's context length is only 20 tokens, resulting in a maximum input length of 4 tokens. Please reduce the length of the input prompt. (parameter=input_tokens, value=9)",
      type: 'BadRequestError',
      param: 'input_tokens',
      code: 400,
    })
    expect(contextOverflowError('legacy', 2048, 1699, 1024)?.info.message).toBe(
      "This model's maximum context length is 2048 tokens. However, you requested 2723 tokens (1699 in the messages, 1024 in the completion). Please reduce the length of the messages or completion.",
    )
    expect(contextOverflowError('newest', 20, 9, 11)).toBeUndefined()
  })

  it('selects the wording through contextOverflowWording', async () => {
    const older = await startMockVllm({ maxModelLen: 5, contextOverflowWording: 'v0.10' })
    try {
      const result = await post(older.baseUrl, '/v1/chat/completions', hi)
      expect(JSON.parse(result.text).error.message).toBe(
        "This model's maximum context length is 5 tokens. However, your request has 9 input tokens. Please reduce the length of the input messages.",
      )
    } finally {
      await older.close()
    }
  })

  it('sends a mid-stream error as json.dumps-spaced data then [DONE] on HTTP 200', async () => {
    const result = await post(
      server.baseUrl,
      '/v1/chat/completions',
      { ...hi, stream: true },
      {
        'x-mock-fault': JSON.stringify({
          kind: 'mid-stream-error',
          afterChunks: 2,
          message: 'boom é',
          code: 400,
        }),
      },
    )
    expect(result.status).toBe(200)
    const payloads = ssePayloads(result.text)
    expect(payloads).toHaveLength(4)
    expect(payloads[2]).toBe(
      '{"error": {"message": "boom \\u00e9", "type": "BadRequestError", "param": null, "code": 400}}',
    )
    expect(payloads[3]).toBe('[DONE]')
  })

  it('rejects both add_generation_prompt and continue_final_message', async () => {
    await expectError(
      { ...hi, continue_final_message: true },
      400,
      badRequest('Cannot set both `continue_final_message` and `add_generation_prompt` to True.'),
    )
  })

  it('names the field of a wrongly typed value and rejects a body that is not JSON', async () => {
    const wrong = await post(server.baseUrl, '/v1/chat/completions', { ...hi, n: 'two' })
    expect(wrong.status).toBe(400)
    expect(JSON.parse(wrong.text).error.message).toBe('n: Input should be a valid integer, got "two"')
    const garbage = await post(server.baseUrl, '/v1/chat/completions', '{"messages": [')
    expect(garbage.status).toBe(400)
    expect(JSON.parse(garbage.text).error.message).toMatch(/^JSON decode error: /)
    const missing = await post(server.baseUrl, '/v1/chat/completions', { model: 'Qwen/Qwen3-8B' })
    expect(JSON.parse(missing.text).error).toMatchObject({ param: 'messages', code: 400 })
  })

  it('answers unknown routes like FastAPI', async () => {
    const result = await post(server.baseUrl, '/v1/unknown', {})
    expect(result.status).toBe(404)
    expect(result.text).toBe('{"detail":"Not Found"}')
  })
})
