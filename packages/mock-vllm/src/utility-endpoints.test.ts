import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { get, post } from './__fixtures__/http'
import type { MockVllmServer } from './mock-vllm-options'
import { startMockVllm } from './start-mock-vllm'

let server: MockVllmServer
beforeAll(async () => {
  server = await startMockVllm({ maxModelLen: 32768 })
})
afterAll(async () => {
  await server.close()
})

const conversation = {
  model: 'Qwen/Qwen3-8B',
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'What is 3 + 4?' },
  ],
  tools: [{ type: 'function', function: { name: 'calculator', description: 'math' } }],
  chat_template_kwargs: { enable_thinking: false },
}

describe('utility endpoints', () => {
  it('/tokenize chat form: count equals usage.prompt_tokens of the same messages, ids equal prompt_token_ids', async () => {
    const tokenized = JSON.parse((await post(server.baseUrl, '/tokenize', conversation)).text)
    const chat = JSON.parse(
      (await post(server.baseUrl, '/v1/chat/completions', { ...conversation, return_token_ids: true })).text,
    )
    expect(tokenized.count).toBe(chat.usage.prompt_tokens)
    expect(tokenized.tokens).toEqual(chat.prompt_token_ids)
    expect(tokenized.max_model_len).toBe(32768)
    expect(tokenized.token_strs).toBeNull()
    expect(tokenized.tokens.slice(-7)).toEqual([151644, 77091, 198, 151667, 271, 151668, 271])
  })

  it('/tokenize prompt form returns raw BPE pieces as token_strs', async () => {
    const result = await post(server.baseUrl, '/tokenize', {
      prompt: 'Hello Efficiency',
      return_token_strs: true,
    })
    expect(result.text).toBe(
      '{"count":2,"max_model_len":32768,"tokens":[9707,66567],"token_strs":["Hello","ĠEfficiency"]}',
    )
  })

  it('/detokenize keeps special tokens', async () => {
    const result = await post(server.baseUrl, '/detokenize', {
      tokens: [151644, 872, 198, 39, 83722, 151645],
    })
    expect(result.text).toBe('{"prompt":"<|im_start|>user\\nHAVING<|im_end|>"}')
    expect((await post(server.baseUrl, '/detokenize', { tokens: 'abc' })).status).toBe(400)
  })

  it('/health answers 200 with an empty body', async () => {
    const result = await get(server.baseUrl, '/health')
    expect(result.status).toBe(200)
    expect(result.text).toBe('')
  })

  it('/version reports the imitated version per mode', async () => {
    expect((await get(server.baseUrl, '/version')).text).toBe('{"version":"0.28.0"}')
    const legacy = await startMockVllm({ mode: 'legacy-0.10' })
    try {
      expect((await get(legacy.baseUrl, '/version')).text).toBe('{"version":"0.11.0"}')
    } finally {
      await legacy.close()
    }
  })

  it('/v1/models lists the model with max_model_len', async () => {
    const body = JSON.parse((await get(server.baseUrl, '/v1/models')).text)
    const created = body.data[0].created
    expect(body).toEqual({
      object: 'list',
      data: [
        {
          id: 'Qwen/Qwen3-8B',
          object: 'model',
          created,
          owned_by: 'vllm',
          root: 'Qwen/Qwen3-8B',
          parent: null,
          max_model_len: 32768,
          permission: [
            {
              id: 'modelperm-ba83413358dd8c4d',
              object: 'model_permission',
              created,
              allow_create_engine: false,
              allow_sampling: true,
              allow_logprobs: true,
              allow_search_indices: false,
              allow_view: true,
              allow_fine_tuning: false,
              organization: '*',
              group: null,
              is_blocking: false,
            },
          ],
        },
      ],
    })
  })
})
