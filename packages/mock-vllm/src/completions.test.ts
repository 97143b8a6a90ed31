import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { post, sseChunks } from './__fixtures__/http'
import type { MockVllmServer } from './mock-vllm-options'
import { startMockVllm } from './start-mock-vllm'

// the scripted reply ' there!' tokenizes to Ġthere ! and the mock appends <|im_end|>
const REPLY_IDS = [1052, 0, 151645]

let server: MockVllmServer
let legacy: MockVllmServer
let pre0102: MockVllmServer
/** Two tokens per chunk: a chunk joins the texts and the ids of its tokens. */
let paired: MockVllmServer
beforeAll(async () => {
  server = await startMockVllm({ policy: { script: [' there!'] } })
  legacy = await startMockVllm({ policy: { script: [' there!'] }, mode: 'legacy-0.10' })
  pre0102 = await startMockVllm({ policy: { script: [' there!'] }, mode: 'pre-0.10.2' })
  paired = await startMockVllm({ policy: { script: [' there!'] }, pacing: { tokensPerChunk: 2 } })
})
afterAll(async () => {
  await Promise.all([server.close(), legacy.close(), pre0102.close(), paired.close()])
})

/** The streamed chunks of a completions request. */
async function streamed(target: MockVllmServer, body: Record<string, unknown>) {
  return sseChunks((await post(target.baseUrl, '/v1/completions', { ...body, stream: true })).text)
}

describe('completions', () => {
  it('returns ids per choice and every field, non-stream (prompt as a string)', async () => {
    const result = await post(server.baseUrl, '/v1/completions', {
      model: 'Qwen/Qwen3-8B',
      prompt: 'Hello',
      return_token_ids: true,
    })
    const body = JSON.parse(result.text)
    expect(result.text).toBe(JSON.stringify(body))
    expect(body.id).toMatch(/^cmpl-[0-9a-f]{16}$/)
    expect(body).toEqual({
      id: body.id,
      object: 'text_completion',
      created: body.created,
      model: 'Qwen/Qwen3-8B',
      choices: [
        {
          index: 0,
          text: ' there!',
          logprobs: null,
          finish_reason: 'stop',
          stop_reason: null,
          token_ids: REPLY_IDS,
          prompt_logprobs: null,
          prompt_token_ids: [9707],
        },
      ],
      service_tier: null,
      system_fingerprint: null,
      usage: { prompt_tokens: 1, total_tokens: 4, completion_tokens: 3, prompt_tokens_details: null },
      kv_transfer_params: null,
    })
  })

  it('accepts int[] and int[][] prompts: batch indices, summed usage, ids per choice', async () => {
    const single = JSON.parse(
      (await post(server.baseUrl, '/v1/completions', { prompt: [9707, 1052], return_token_ids: true })).text,
    )
    expect(single.choices[0].prompt_token_ids).toEqual([9707, 1052])
    const batch = JSON.parse(
      (
        await post(server.baseUrl, '/v1/completions', {
          prompt: [[9707], [9707, 1052]],
          n: 2,
          return_token_ids: true,
        })
      ).text,
    )
    expect(
      batch.choices.map((choice: { index: number; prompt_token_ids: number[] }) => [
        choice.index,
        choice.prompt_token_ids,
      ]),
    ).toEqual([
      [0, [9707]],
      [1, [9707]],
      [2, [9707, 1052]],
      [3, [9707, 1052]],
    ])
    expect(batch.usage).toEqual({
      prompt_tokens: 3,
      total_tokens: 15,
      completion_tokens: 12,
      prompt_tokens_details: null,
    })
  })

  it('echoes the prompt text, except with return_token_ids (vLLM echoes "" then)', async () => {
    const echoed = JSON.parse(
      (await post(server.baseUrl, '/v1/completions', { prompt: [9707], echo: true })).text,
    )
    expect(echoed.choices[0].text).toBe('Hello there!')
    const withIds = JSON.parse(
      (await post(server.baseUrl, '/v1/completions', { prompt: [9707], echo: true, return_token_ids: true }))
        .text,
    )
    expect(withIds.choices[0].text).toBe(' there!')
    const promptOnly = JSON.parse(
      (await post(server.baseUrl, '/v1/completions', { prompt: 'Hello', echo: true, max_tokens: 0 })).text,
    )
    expect(promptOnly.choices[0]).toMatchObject({ text: 'Hello', finish_reason: 'length', token_ids: null })
  })

  it('streams: prompt ids on the first chunk per choice, ids on every chunk, usage chunk with choices []', async () => {
    const chunks = sseChunks(
      (
        await post(server.baseUrl, '/v1/completions', {
          prompt: 'Hello',
          stream: true,
          return_token_ids: true,
          stream_options: { include_usage: true },
        })
      ).text,
    )
    const { id, created } = chunks[0]!
    const head = { id, object: 'text_completion', created, model: 'Qwen/Qwen3-8B' }
    const choice = (text: string, ids: number[], first: boolean, finish: string | null) => ({
      index: 0,
      text,
      logprobs: null,
      finish_reason: finish,
      stop_reason: null,
      prompt_token_ids: first ? [9707] : null,
      token_ids: ids,
    })
    expect(chunks).toEqual([
      { ...head, choices: [choice(' there', [1052], true, null)] },
      { ...head, choices: [choice('!', [0], false, null)] },
      { ...head, choices: [choice('', [151645], false, 'stop')] },
      { ...head, choices: [], usage: { prompt_tokens: 1, total_tokens: 4, completion_tokens: 3 } },
    ])
  })

  it('legacy-0.10 streams every key, "usage": null included, and 32-hex ids', async () => {
    const chunks = sseChunks(
      (
        await post(legacy.baseUrl, '/v1/completions', {
          prompt: 'Hello',
          stream: true,
          return_token_ids: true,
        })
      ).text,
    )
    expect(chunks[0]!.id).toMatch(/^cmpl-[0-9a-f]{32}$/)
    expect(chunks).toHaveLength(3)
    for (const chunk of chunks) expect(chunk.usage).toBeNull()
    expect(Object.keys(chunks[1]!.choices[0]!)).toEqual([
      'index',
      'text',
      'logprobs',
      'finish_reason',
      'stop_reason',
      'prompt_token_ids',
      'token_ids',
    ])
  })

  it('returns completions logprobs with token_id:N tokens and up to logprobs+1 alternatives', async () => {
    const body = JSON.parse(
      (
        await post(server.baseUrl, '/v1/completions', {
          prompt: 'Hello',
          logprobs: 1,
          return_tokens_as_token_ids: true,
        })
      ).text,
    )
    const logprobs = body.choices[0].logprobs
    expect(logprobs.tokens).toEqual(['token_id:1052', 'token_id:0', 'token_id:151645'])
    expect(logprobs.text_offset).toEqual([0, 6, 7])
    expect(logprobs.token_logprobs).toHaveLength(3)
    expect(Object.keys(logprobs.top_logprobs[0])[0]).toBe('token_id:1052')
    expect(Object.keys(logprobs.top_logprobs[0]).length).toBeLessThanOrEqual(2)
  })

  it('returns prompt_logprobs per choice: null first, then the actual token plus k alternatives', async () => {
    const body = JSON.parse(
      (await post(server.baseUrl, '/v1/completions', { prompt: [9707, 1052, 0], prompt_logprobs: 1 })).text,
    )
    const entries = body.choices[0].prompt_logprobs
    expect(entries).toHaveLength(3)
    expect(entries[0]).toBeNull()
    expect(Object.keys(entries[1])[0]).toBe('1052')
    expect(entries[1]['1052'].decoded_token).toBe(' there')
    expect(Object.keys(entries[2])[0]).toBe('0')
    expect(Object.keys(entries[2]).length).toBeLessThanOrEqual(2)
    const only = JSON.parse(
      (await post(server.baseUrl, '/v1/completions', { prompt: [9707, 1052], prompt_logprobs: 0 })).text,
    )
    expect(Object.keys(only.choices[0].prompt_logprobs[1])).toEqual(['1052'])
  })

  it('rejects a malformed prompt naming the field', async () => {
    const result = await post(server.baseUrl, '/v1/completions', { prompt: [1.5] })
    expect(result.status).toBe(400)
    expect(JSON.parse(result.text).error).toMatchObject({
      type: 'BadRequestError',
      param: 'prompt',
      code: 400,
    })
    const outOfVocabulary = await post(server.baseUrl, '/v1/completions', { prompt: [999999] })
    expect(JSON.parse(outOfVocabulary.text).error.message).toBe('Token id 999999 is out of vocabulary')
  })
})

describe('completions streams, field by field', () => {
  // 'Hello Hello' is the two ids 9707 21927 (11 characters); the reply is ' there' '!' then <|im_end|>
  const prompt = 'Hello Hello'

  it('joins the texts and ids of the tokens of a chunk, and sends prompt ids on the first chunk only', async () => {
    const chunks = await streamed(paired, { prompt, return_token_ids: true })
    expect(chunks.map((chunk) => chunk.choices[0])).toEqual([
      {
        index: 0,
        text: ' there!',
        logprobs: null,
        finish_reason: null,
        stop_reason: null,
        prompt_token_ids: [9707, 21927],
        token_ids: [1052, 0],
      },
      {
        index: 0,
        text: '',
        logprobs: null,
        finish_reason: 'stop',
        stop_reason: null,
        prompt_token_ids: null,
        token_ids: [151645],
      },
    ])
  })

  it('sends null ids without return_token_ids, and no id keys at all before v0.10.2', async () => {
    for (const choice of (await streamed(paired, { prompt })).map((chunk) => chunk.choices[0]!)) {
      expect(choice).toMatchObject({ prompt_token_ids: null, token_ids: null })
    }
    const old = await streamed(pre0102, { prompt, return_token_ids: true })
    expect(old).toHaveLength(3)
    for (const chunk of old) {
      expect(chunk.choices[0]).not.toHaveProperty('token_ids')
      expect(chunk.choices[0]).not.toHaveProperty('prompt_token_ids')
    }
    const body = JSON.parse(
      (await post(pre0102.baseUrl, '/v1/completions', { prompt, return_token_ids: true })).text,
    )
    expect(Object.keys(body.choices[0])).toEqual([
      'index',
      'text',
      'logprobs',
      'finish_reason',
      'stop_reason',
      'prompt_logprobs',
    ])
  })

  it('echoes the prompt text at the head of the first chunk only', async () => {
    const chunks = await streamed(paired, { prompt, echo: true })
    expect(chunks.map((chunk) => chunk.choices[0]!.text)).toEqual(['Hello Hello there!', ''])
  })

  it('echo with max_tokens 0 streams one chunk: the prompt text, finish length, no ids', async () => {
    const chunks = await streamed(server, { prompt, echo: true, max_tokens: 0, return_token_ids: true })
    expect(chunks.map((chunk) => chunk.choices[0])).toEqual([
      {
        index: 0,
        text: '',
        logprobs: null,
        finish_reason: 'length',
        stop_reason: null,
        prompt_token_ids: [9707, 21927],
        token_ids: [],
      },
    ])
    const echoed = await streamed(server, { prompt, echo: true, max_tokens: 0 })
    expect(echoed.map((chunk) => chunk.choices[0]!.text)).toEqual(['Hello Hello'])
  })

  it('numbers text_offset across chunks, after the echoed prompt text', async () => {
    const offsets = (chunks: Awaited<ReturnType<typeof streamed>>) =>
      chunks.map((chunk) => (chunk.choices[0]!.logprobs as { text_offset: number[] }).text_offset)
    const chunks = await streamed(paired, { prompt, logprobs: 0 })
    expect(offsets(chunks)).toEqual([[0, 6], [7]])
    expect(chunks.map((chunk) => (chunk.choices[0]!.logprobs as { tokens: string[] }).tokens)).toEqual([
      [' there', '!'],
      ['<|im_end|>'],
    ])
    // with echo, the generated tokens' offsets start after the 11 echoed characters
    const echoed = await streamed(paired, { prompt, logprobs: 0, echo: true })
    expect(offsets(echoed).map((chunk) => chunk.slice(-2))).toEqual([[11, 17], [18]])
  })

  it('adds cumulative usage to every chunk with continuous_usage_stats, in the stream usage shape', async () => {
    const chunks = await streamed(paired, {
      prompt,
      stream_options: { include_usage: true, continuous_usage_stats: true },
    })
    expect(chunks.map((chunk) => chunk.usage)).toEqual([
      { prompt_tokens: 2, total_tokens: 4, completion_tokens: 2 },
      { prompt_tokens: 2, total_tokens: 5, completion_tokens: 3 },
      { prompt_tokens: 2, total_tokens: 5, completion_tokens: 3 },
    ])
    expect(chunks.at(-1)!.choices).toEqual([])
  })
})
