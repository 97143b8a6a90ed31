import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ChunkView, post, sseChunks, ssePayloads, streamedIds } from './__fixtures__/http'
import type { MockVllmOptions, MockVllmServer } from './mock-vllm-options'
import { startMockVllm } from './start-mock-vllm'

const HI_PROMPT_IDS = [151644, 872, 198, 13048, 151645, 198, 151644, 77091, 198]
const hi = { model: 'Qwen/Qwen3-8B', messages: [{ role: 'user', content: 'Hi' }] }
const calculatorTool = {
  type: 'function',
  function: {
    name: 'calculator',
    parameters: { type: 'object', properties: { expression: { type: 'string' } } },
  },
}
const TOOL_REPLY = '<tool_call>\n{"name": "calculator", "arguments": {"expression": "2+2"}}\n</tool_call>'
// ids of TOOL_REPLY: <tool_call> \n {" name ": Ġ" calculator ", Ġ" arguments ": Ġ{" expression ": Ġ" 2 + 2 "}}\n </tool_call>
const TOOL_REPLY_IDS = [
  151657, 198, 4913, 606, 788, 330, 88821, 497, 330, 16370, 788, 5212, 28099, 788, 330, 17, 10, 17, 95642,
  151658,
]

const servers: MockVllmServer[] = []
async function start(options: MockVllmOptions): Promise<MockVllmServer> {
  const server = await startMockVllm(options)
  servers.push(server)
  return server
}
afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()))
})

/** Every chunk must carry the same id/object/created/model header. */
function expectHeaders(chunks: ChunkView[]): { id: string; created: number } {
  const { id, created } = chunks[0]!
  for (const chunk of chunks) {
    expect(chunk.id).toBe(id)
    expect(chunk.object).toBe('chat.completion.chunk')
    expect(chunk.created).toBe(created)
    expect(chunk.model).toBe('Qwen/Qwen3-8B')
  }
  return { id, created }
}

describe('chat, non-stream, return_token_ids', () => {
  let server: MockVllmServer
  beforeAll(async () => {
    server = await start({ policy: { script: ['Hello there!'] } })
  })

  it('returns every model field, ids ending with EOS, usage agreeing with the ids, compact JSON', async () => {
    const result = await post(server.baseUrl, '/v1/chat/completions', { ...hi, return_token_ids: true })
    expect(result.status).toBe(200)
    expect(result.headers.get('content-type')).toBe('application/json')
    const body = JSON.parse(result.text)
    expect(result.text).toBe(JSON.stringify(body))
    expect(body.id).toMatch(/^chatcmpl-[0-9a-f]{16}$/)
    expect(body).toEqual({
      id: body.id,
      object: 'chat.completion',
      created: body.created,
      model: 'Qwen/Qwen3-8B',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Hello there!',
            refusal: null,
            annotations: null,
            audio: null,
            function_call: null,
            reasoning: null,
          },
          logprobs: null,
          finish_reason: 'stop',
          stop_reason: null,
          token_ids: [9707, 1052, 0, 151645],
        },
      ],
      service_tier: null,
      system_fingerprint: null,
      usage: { prompt_tokens: 9, total_tokens: 13, completion_tokens: 4, prompt_tokens_details: null },
      prompt_logprobs: null,
      prompt_token_ids: HI_PROMPT_IDS,
      prompt_text: null,
      kv_transfer_params: null,
    })
    expect(Math.abs(body.created - Date.now() / 1000)).toBeLessThan(5)
  })

  it('keeps the id keys as null when ids were not requested', async () => {
    const body = JSON.parse((await post(server.baseUrl, '/v1/chat/completions', hi)).text)
    expect(body.prompt_token_ids).toBeNull()
    expect(body.choices[0].token_ids).toBeNull()
    expect(body.usage.completion_tokens).toBe(4)
  })

  it('reports stop_reason as the int id for stop_token_ids and the string for a stop string', async () => {
    const byId = JSON.parse(
      (
        await post(server.baseUrl, '/v1/chat/completions', {
          ...hi,
          return_token_ids: true,
          stop_token_ids: [1052],
        })
      ).text,
    )
    expect(byId.choices[0]).toMatchObject({
      finish_reason: 'stop',
      stop_reason: 1052,
      token_ids: [9707, 1052],
    })
    expect(byId.choices[0].message.content).toBe('Hello')
    const byString = JSON.parse(
      (await post(server.baseUrl, '/v1/chat/completions', { ...hi, return_token_ids: true, stop: ['ere'] }))
        .text,
    )
    expect(byString.choices[0]).toMatchObject({
      finish_reason: 'stop',
      stop_reason: 'ere',
      token_ids: [9707, 1052],
    })
    expect(byString.choices[0].message.content).toBe('Hello th')
  })

  it('finishes with length at max_tokens, without the EOS id', async () => {
    const body = JSON.parse(
      (await post(server.baseUrl, '/v1/chat/completions', { ...hi, return_token_ids: true, max_tokens: 2 }))
        .text,
    )
    expect(body.choices[0]).toMatchObject({
      finish_reason: 'length',
      stop_reason: null,
      token_ids: [9707, 1052],
    })
    expect(body.choices[0].message.content).toBe('Hello there')
    expect(body.usage).toEqual({
      prompt_tokens: 9,
      total_tokens: 11,
      completion_tokens: 2,
      prompt_tokens_details: null,
    })
  })

  it('answers n > 1 with one choice per index and summed usage', async () => {
    const body = JSON.parse(
      (await post(server.baseUrl, '/v1/chat/completions', { ...hi, n: 3, return_token_ids: true })).text,
    )
    expect(body.choices.map((choice: { index: number }) => choice.index)).toEqual([0, 1, 2])
    expect(body.usage.completion_tokens).toBe(12)
  })
})

describe('chat stream', () => {
  let server: MockVllmServer
  beforeAll(async () => {
    server = await start({ policy: { script: ['Hello there!'] } })
  })

  it('frames compact chunks: role chunk with prompt ids, content chunks with ids, finish, usage, [DONE]', async () => {
    const result = await post(server.baseUrl, '/v1/chat/completions', {
      ...hi,
      stream: true,
      return_token_ids: true,
      stream_options: { include_usage: true },
    })
    expect(result.status).toBe(200)
    expect(result.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    const payloads = ssePayloads(result.text)
    const chunks = sseChunks(result.text)
    chunks.forEach((chunk, index) => {
      expect(payloads[index]).toBe(JSON.stringify(chunk))
    })
    const { id, created } = expectHeaders(chunks)
    const head = { id, object: 'chat.completion.chunk', created, model: 'Qwen/Qwen3-8B' }
    const content = (text: string, ids: number[]) => ({
      ...head,
      choices: [{ index: 0, delta: { content: text }, logprobs: null, finish_reason: null, token_ids: ids }],
    })
    expect(chunks).toEqual([
      {
        ...head,
        choices: [
          { index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null },
        ],
        prompt_token_ids: HI_PROMPT_IDS,
        prompt_text: null,
      },
      content('Hello', [9707]),
      content(' there', [1052]),
      content('!', [0]),
      {
        ...head,
        choices: [
          {
            index: 0,
            delta: {},
            logprobs: null,
            finish_reason: 'stop',
            stop_reason: null,
            token_ids: [151645],
          },
        ],
      },
      {
        ...head,
        choices: [],
        usage: { prompt_tokens: 9, total_tokens: 13, completion_tokens: 4 },
        system_fingerprint: 'vllm-0.28.0-54757788',
      },
    ])
  })

  it('sends null ids without return_token_ids and puts system_fingerprint on the finish chunk without usage', async () => {
    const chunks = sseChunks(
      (await post(server.baseUrl, '/v1/chat/completions', { ...hi, stream: true })).text,
    )
    expect(chunks).toHaveLength(5)
    expect(chunks[0]!.prompt_token_ids).toBeNull()
    expect(chunks[1]!.choices[0]!.token_ids).toBeNull()
    expect(chunks[4]!.choices[0]).toEqual({
      index: 0,
      delta: {},
      logprobs: null,
      finish_reason: 'stop',
      stop_reason: null,
      token_ids: null,
    })
    expect(chunks[4]!.system_fingerprint).toBe('vllm-0.28.0-54757788')
  })

  it('adds cumulative usage to every chunk with continuous_usage_stats', async () => {
    const chunks = sseChunks(
      (
        await post(server.baseUrl, '/v1/chat/completions', {
          ...hi,
          stream: true,
          stream_options: { include_usage: true, continuous_usage_stats: true },
        })
      ).text,
    )
    expect(chunks.map((chunk) => chunk.usage?.completion_tokens)).toEqual([0, 1, 2, 3, 4, 4])
    expect(chunks[2]!.usage).toEqual({ prompt_tokens: 9, total_tokens: 11, completion_tokens: 2 })
  })

  it('groups tokens per chunk with pacing.tokensPerChunk', async () => {
    const paced = await start({ policy: { script: ['Hello there!'] }, pacing: { tokensPerChunk: 3 } })
    const chunks = sseChunks(
      (await post(paced.baseUrl, '/v1/chat/completions', { ...hi, stream: true, return_token_ids: true }))
        .text,
    )
    expect(chunks.slice(1).map((chunk) => chunk.choices[0]!.token_ids)).toEqual([[9707, 1052, 0], [151645]])
    expect(chunks[1]!.choices[0]!.delta).toEqual({ content: 'Hello there!' })
  })

  it('interleaves n > 1 choices: one role chunk per choice first', async () => {
    const chunks = sseChunks(
      (
        await post(server.baseUrl, '/v1/chat/completions', {
          ...hi,
          n: 2,
          stream: true,
          return_token_ids: true,
        })
      ).text,
    )
    expect(chunks.slice(0, 2).map((chunk) => [chunk.choices[0]!.index, chunk.choices[0]!.delta])).toEqual([
      [0, { role: 'assistant', content: '' }],
      [1, { role: 'assistant', content: '' }],
    ])
    expect(chunks.slice(2).map((chunk) => chunk.choices[0]!.index)).toEqual([0, 1, 0, 1, 0, 1, 0, 1])
    expect(streamedIds(chunks, 1)).toEqual([9707, 1052, 0, 151645])
  })
  it('streams n > 1 choices of different lengths: each to its own end, one finish chunk each, ids as in the body', async () => {
    // a stop id that only choice 0 samples (at its 4th position) ends it early; choice 1 runs to max length
    const options = { policy: { random: { tokens: 12 } }, seed: 3 } as const
    const request = { ...hi, n: 2, return_token_ids: true, stop_token_ids: [64751] }
    const body = JSON.parse(
      (await post((await start(options)).baseUrl, '/v1/chat/completions', request)).text,
    )
    const bodyIds = body.choices.map((choice: { token_ids: number[] }) => choice.token_ids)
    expect(bodyIds.map((ids: number[]) => ids.length)).toEqual([4, 13])
    // a fresh server with the same seed samples the same ids for its first request
    const chunks = sseChunks(
      (await post((await start(options)).baseUrl, '/v1/chat/completions', { ...request, stream: true })).text,
    )
    expect([streamedIds(chunks, 0), streamedIds(chunks, 1)]).toEqual(bodyIds)
    const finishes = chunks.flatMap((chunk) =>
      chunk.choices.filter((choice) => choice.finish_reason !== null).map((choice) => choice.index),
    )
    expect(finishes).toEqual([0, 1])
    expect(chunks.at(-1)!.choices[0]).toMatchObject({ index: 1, finish_reason: 'stop', stop_reason: null })
  })
})

describe('parser-swallowed tokens in each mode', () => {
  const reasoningReply = '<think>\nAdd.\n</think>\n\nIt is 4.'
  const request = { ...hi, stream: true, return_token_ids: true, stream_options: { include_usage: true } }

  it('current: swallowed <think>/</think> arrive as delta:{} frames with their ids; reasoning key', async () => {
    const server = await start({ policy: { script: [reasoningReply] } })
    const chunks = sseChunks((await post(server.baseUrl, '/v1/chat/completions', request)).text)
    const choices = chunks.slice(1, -1).map((chunk) => chunk.choices[0])
    expect(choices[0]).toEqual({ index: 0, delta: {}, finish_reason: null, token_ids: [151667] })
    expect(choices.map((choice) => [choice!.delta, choice!.token_ids])).toEqual([
      [{}, [151667]],
      [{ reasoning: '\n' }, [198]],
      [{ reasoning: 'Add' }, [2212]],
      [{ reasoning: '.\n' }, [624]],
      [{}, [151668]],
      [{ content: '\n\n' }, [271]],
      [{ content: 'It' }, [2132]],
      [{ content: ' is' }, [374]],
      [{ content: ' ' }, [220]],
      [{ content: '4' }, [19]],
      [{ content: '.' }, [13]],
      [{}, [151645]],
    ])
    expect(streamedIds(chunks)).toHaveLength(chunks[chunks.length - 1]!.usage!.completion_tokens)
    const body = JSON.parse((await post(server.baseUrl, '/v1/chat/completions', { ...hi })).text)
    expect(body.choices[0].message).toMatchObject({ content: '\n\nIt is 4.', reasoning: '\nAdd.\n' })
  })

  it('current: without return_token_ids or logprobs, a swallowed step sends no frame at all', async () => {
    const server = await start({ policy: { script: [reasoningReply] } })
    const chunks = sseChunks(
      (await post(server.baseUrl, '/v1/chat/completions', { ...hi, stream: true })).text,
    )
    // after the role chunk: the 9 steps with text; <think> and </think> send nothing, <|im_end|> still finishes
    expect(chunks.slice(1).map((chunk) => chunk.choices[0]!.delta)).toEqual([
      { reasoning: '\n' },
      { reasoning: 'Add' },
      { reasoning: '.\n' },
      { content: '\n\n' },
      { content: 'It' },
      { content: ' is' },
      { content: ' ' },
      { content: '4' },
      { content: '.' },
      {},
    ])
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('stop')
  })

  it('current: with logprobs alone, a swallowed step is a delta:{} frame carrying its logprobs', async () => {
    const server = await start({ policy: { script: [reasoningReply] } })
    const chunks = sseChunks(
      (await post(server.baseUrl, '/v1/chat/completions', { ...hi, stream: true, logprobs: true })).text,
    )
    const tokens = (chunk: ChunkView) =>
      (chunk.choices[0]!.logprobs as { content: Array<{ token: string }> }).content.map(
        (entry) => entry.token,
      )
    expect(chunks[1]!.choices[0]).toMatchObject({ index: 0, delta: {}, finish_reason: null, token_ids: null })
    expect(tokens(chunks[1]!)).toEqual(['<think>'])
    expect(tokens(chunks[5]!)).toEqual(['</think>'])
    // every one of the 12 sampled tokens arrives with its logprobs, the swallowed ones included
    expect(chunks.slice(1).flatMap(tokens)).toHaveLength(12)
  })

  it('current without a reasoning parser: the finish step of plain content is content ""', async () => {
    const server = await start({ policy: { script: ['Hello there!'] }, reasoningParser: false })
    const chunks = sseChunks(
      (await post(server.baseUrl, '/v1/chat/completions', { ...hi, stream: true, return_token_ids: true }))
        .text,
    )
    expect(chunks.at(-1)!.choices[0]).toMatchObject({
      delta: { content: '' },
      finish_reason: 'stop',
      token_ids: [151645],
    })
  })

  it('legacy-0.10: the swallowed ids are dropped (fewer ids than usage); reasoning_content; 32-hex ids', async () => {
    const server = await start({ policy: { script: [reasoningReply] }, mode: 'legacy-0.10' })
    const chunks = sseChunks((await post(server.baseUrl, '/v1/chat/completions', request)).text)
    expect(chunks[0]!.id).toMatch(/^chatcmpl-[0-9a-f]{32}$/)
    expect(chunks[0]).not.toHaveProperty('prompt_text')
    expect(streamedIds(chunks)).toEqual([198, 2212, 624, 271, 2132, 374, 220, 19, 13, 151645])
    expect(chunks[chunks.length - 1]!.usage!.completion_tokens).toBe(12)
    expect(chunks[1]!.choices[0]!.delta).toEqual({ reasoning_content: '\n' })
    expect(chunks[chunks.length - 2]!.choices[0]!.delta).toEqual({ content: '' })
    expect(chunks[chunks.length - 1]).not.toHaveProperty('system_fingerprint')
    const body = JSON.parse((await post(server.baseUrl, '/v1/chat/completions', { ...hi })).text)
    expect(body.choices[0].message).toMatchObject({
      content: '\n\nIt is 4.',
      reasoning_content: '\nAdd.\n',
      tool_calls: [],
    })
    expect(body).not.toHaveProperty('prompt_text')
  })

  it('pre-0.10.2: no id keys at all, even when return_token_ids is sent', async () => {
    const server = await start({ policy: { script: [reasoningReply] }, mode: 'pre-0.10.2' })
    const chunks = sseChunks((await post(server.baseUrl, '/v1/chat/completions', request)).text)
    expect(chunks[0]).not.toHaveProperty('prompt_token_ids')
    for (const chunk of chunks)
      for (const choice of chunk.choices) expect(choice).not.toHaveProperty('token_ids')
    expect(chunks[chunks.length - 2]!.choices[0]).toEqual({
      index: 0,
      delta: { content: '' },
      logprobs: null,
      finish_reason: 'stop',
      stop_reason: null,
    })
    const body = JSON.parse(
      (await post(server.baseUrl, '/v1/chat/completions', { ...hi, return_token_ids: true })).text,
    )
    expect(body).not.toHaveProperty('prompt_token_ids')
    expect(body.choices[0]).not.toHaveProperty('token_ids')
    expect((await post(server.baseUrl, '/version', {})).status).toBe(405)
  })
})

describe('tool streams (hermes)', () => {
  let server: MockVllmServer
  beforeAll(async () => {
    server = await start({ policy: { script: [TOOL_REPLY] } })
  })
  const request = { ...hi, tools: [calculatorTool], stream: true, return_token_ids: true, stream_options: {} }

  it('sends the name delta first, then argument fragments, then finish tool_calls with delta {}', async () => {
    const chunks = sseChunks((await post(server.baseUrl, '/v1/chat/completions', request)).text)
    const choices = chunks.slice(1, -1).map((chunk) => chunk.choices[0]!)
    const toolDeltas = choices.flatMap((choice) => choice.delta?.tool_calls ?? [])
    const callId = toolDeltas[0]!.id!
    expect(callId).toMatch(/^chatcmpl-tool-[0-9a-f]{16}$/)
    expect(toolDeltas[0]).toEqual({
      id: callId,
      type: 'function',
      index: 0,
      function: { name: 'calculator' },
    })
    expect(toolDeltas.slice(1).every((delta) => Object.keys(delta).join() === 'index,function')).toBe(true)
    expect(toolDeltas.slice(1).map((delta) => delta.function.arguments)).toEqual([
      '{"',
      'expression',
      '":',
      ' "',
      '2',
      '+',
      '2',
      '"}',
    ])
    expect(toolDeltas.map((delta) => delta.function.arguments ?? '').join('')).toBe('{"expression": "2+2"}')
    expect(choices[choices.length - 1]).toEqual({
      index: 0,
      delta: {},
      logprobs: null,
      finish_reason: 'tool_calls',
      stop_reason: null,
      token_ids: [151645],
    })
    // every id arrives: swallowed steps (<tool_call>, the JSON before the name, </tool_call>) as delta:{} frames
    expect(streamedIds(chunks)).toEqual([...TOOL_REPLY_IDS, 151645])
    expect(choices[0]).toEqual({ index: 0, delta: {}, finish_reason: null, token_ids: [151657] })
  })

  it('returns the parsed call non-streaming with json.dumps arguments and content null', async () => {
    const body = JSON.parse(
      (
        await post(server.baseUrl, '/v1/chat/completions', {
          ...hi,
          tools: [calculatorTool],
          return_token_ids: true,
        })
      ).text,
    )
    const message = body.choices[0].message
    expect(message.content).toBeNull()
    expect(message.tool_calls).toEqual([
      {
        id: message.tool_calls[0].id,
        type: 'function',
        function: { name: 'calculator', arguments: '{"expression": "2+2"}' },
      },
    ])
    expect(body.choices[0].finish_reason).toBe('tool_calls')
    expect(body.choices[0].token_ids).toEqual([...TOOL_REPLY_IDS, 151645])
  })

  it('leaves the markup as content when no tools are offered', async () => {
    const body = JSON.parse((await post(server.baseUrl, '/v1/chat/completions', hi)).text)
    expect(body.choices[0].message.content).toBe(TOOL_REPLY)
    expect(body.choices[0].finish_reason).toBe('stop')
  })

  it('sends the arguments not streamed yet with the finish chunk when the name completes in the last step', async () => {
    const coarse = await start({ policy: { script: [TOOL_REPLY] }, pacing: { tokensPerChunk: 100 } })
    const chunks = sseChunks((await post(coarse.baseUrl, '/v1/chat/completions', request)).text)
    expect(chunks).toHaveLength(3)
    expect(chunks[1]!.choices[0]!.delta!.tool_calls).toEqual([
      {
        id: chunks[1]!.choices[0]!.delta!.tool_calls![0]!.id,
        type: 'function',
        index: 0,
        function: { name: 'calculator' },
      },
      { index: 0, function: { arguments: '{"expression": "2+2"}' } },
    ])
    expect(chunks[1]!.choices[0]!.finish_reason).toBe('tool_calls')
  })

  it('streams text before the call as content and numbers parallel calls', async () => {
    const parallel = await start({
      policy: {
        script: [
          'Sure.<tool_call>\n{"name": "get_time", "arguments": {}}\n</tool_call>\n<tool_call>\n{"name": "calculator", "arguments": {"expression": "1"}}\n</tool_call>',
        ],
      },
    })
    const chunks = sseChunks((await post(parallel.baseUrl, '/v1/chat/completions', request)).text)
    const deltas = chunks.slice(1, -1).map((chunk) => chunk.choices[0]!.delta!)
    expect(deltas.slice(0, 2)).toEqual([{ content: 'Sure' }, { content: '.' }])
    const calls = deltas.flatMap((delta) => delta.tool_calls ?? [])
    expect(
      calls.filter((call) => call.function.name).map((call) => [call.index, call.function.name]),
    ).toEqual([
      [0, 'get_time'],
      [1, 'calculator'],
    ])
    const argumentsOf = (index: number) =>
      calls
        .filter((call) => call.index === index)
        .map((call) => call.function.arguments ?? '')
        .join('')
    expect(argumentsOf(0)).toBe('{}')
    expect(argumentsOf(1)).toBe('{"expression": "1"}')
  })

  it('legacy-0.10 reports tool_calls even when the engine stopped on length; current reports length', async () => {
    const legacy = await start({ policy: { script: [TOOL_REPLY] }, mode: 'legacy-0.10' })
    const truncated = { ...request, max_tokens: 12 }
    const legacyChunks = sseChunks((await post(legacy.baseUrl, '/v1/chat/completions', truncated)).text)
    expect(legacyChunks[legacyChunks.length - 2]!.choices[0]!.finish_reason).toBe('tool_calls')
    const currentChunks = sseChunks((await post(server.baseUrl, '/v1/chat/completions', truncated)).text)
    expect(currentChunks[currentChunks.length - 2]!.choices[0]!.finish_reason).toBe('length')
  })
})

describe('logprobs', () => {
  let server: MockVllmServer
  beforeAll(async () => {
    server = await start({ policy: { script: ['Hello there!'] } })
  })

  it('aligns per-chunk logprobs.content with the chunk ids, with token_id:N under return_tokens_as_token_ids', async () => {
    const chunks = sseChunks(
      (
        await post(server.baseUrl, '/v1/chat/completions', {
          ...hi,
          stream: true,
          return_token_ids: true,
          logprobs: true,
          top_logprobs: 2,
          return_tokens_as_token_ids: true,
        })
      ).text,
    )
    expect(chunks[0]!.choices[0]!.logprobs).toBeNull()
    for (const chunk of chunks.slice(1)) {
      const choice = chunk.choices[0]!
      const content = (choice.logprobs as { content: Array<Record<string, unknown>> }).content
      expect(content.map((entry) => entry.token)).toEqual(choice.token_ids!.map((id) => `token_id:${id}`))
      for (const entry of content) {
        expect(Object.keys(entry)).toEqual(['token', 'logprob', 'bytes', 'top_logprobs'])
        expect(entry.logprob as number).toBeGreaterThanOrEqual(-9999)
        const top = entry.top_logprobs as Array<{ token: string; logprob: number; bytes: number[] }>
        expect(top).toHaveLength(2)
        expect(top[0]!.token).toBe(entry.token)
        // the bytes quirk: top entries carry the bytes of the "token_id:N" string
        expect(top[1]!.bytes).toEqual([...new TextEncoder().encode(top[1]!.token)])
      }
    }
    const hello = (chunks[1]!.choices[0]!.logprobs as { content: Array<{ bytes: number[] }> }).content[0]!
    expect(hello.bytes).toEqual([72, 101, 108, 108, 111])
  })

  it('returns top-level prompt_logprobs for non-streaming chat', async () => {
    const body = JSON.parse(
      (await post(server.baseUrl, '/v1/chat/completions', { ...hi, prompt_logprobs: 0 })).text,
    )
    expect(body.prompt_logprobs).toHaveLength(9)
    expect(body.prompt_logprobs[0]).toBeNull()
    expect(body.prompt_logprobs.slice(1).map((entry: Record<string, unknown>) => Object.keys(entry))).toEqual(
      HI_PROMPT_IDS.slice(1).map((id) => [String(id)]),
    )
    expect(body.prompt_logprobs[3]['13048']).toEqual({
      logprob: expect.any(Number),
      rank: expect.any(Number),
      decoded_token: 'Hi',
    })
  })

  it('returns the same logprobs for the same seed and decoded tokens without the flag', async () => {
    const request = { ...hi, logprobs: true }
    const once = await start({ policy: { script: ['Hello there!'] } })
    const first = JSON.parse((await post(once.baseUrl, '/v1/chat/completions', request)).text)
    const again = await start({ policy: { script: ['Hello there!'] } })
    const second = JSON.parse((await post(again.baseUrl, '/v1/chat/completions', request)).text)
    expect(first.choices[0].logprobs).toEqual(second.choices[0].logprobs)
    expect(first.choices[0].logprobs.content.map((entry: { token: string }) => entry.token)).toEqual([
      'Hello',
      ' there',
      '!',
      '<|im_end|>',
    ])
    expect(first.choices[0].logprobs.content[0].top_logprobs).toEqual([])
  })
})
