import { InvalidOptionError } from '@vllm-tito/spec'
import { afterAll, describe, expect, it } from 'vitest'
import { type ChunkView, post, sseChunks, streamedIds } from './__fixtures__/http'
import type { MockVllmMode, MockVllmServer, ToolStreamQuirk } from './mock-vllm-options'
import { startMockVllm } from './start-mock-vllm'

const messages = [{ role: 'user', content: 'Hi' }]
const calculatorTool = {
  type: 'function',
  function: {
    name: 'calculator',
    parameters: { type: 'object', properties: { expression: { type: 'string' } } },
  },
}
const getTimeTool = { type: 'function', function: { name: 'get_time', parameters: { type: 'object' } } }
const CALCULATOR_REPLY =
  '<tool_call>\n{"name": "calculator", "arguments": {"expression": "2+2"}}\n</tool_call>'
const GET_TIME_REPLY = '<tool_call>\n{"name": "get_time", "arguments": {}}\n</tool_call>'
const IM_END = 151645
const FINGERPRINT = 'vllm-0.28.0-54757788'

const servers: MockVllmServer[] = []
afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()))
})

interface QuirkRun {
  server: MockVllmServer
  chunks: ChunkView[]
  /** The request's prompt ids, read back through `POST /tokenize` with the same messages and tools. */
  promptIds: number[]
}

/** Starts a server with the quirks and streams one tool-call request over real HTTP. */
async function streamWithQuirks(
  quirks: ToolStreamQuirk[],
  reply: string,
  request: Record<string, unknown> = {},
  mode: MockVllmMode = 'current',
): Promise<QuirkRun> {
  const server = await startMockVllm({ policy: { script: [reply] }, toolStreamQuirks: quirks, mode })
  servers.push(server)
  const tools = [calculatorTool, getTimeTool]
  const body = {
    model: 'Qwen/Qwen3-8B',
    messages,
    tools,
    stream: true,
    return_token_ids: true,
    stream_options: { include_usage: true },
    ...request,
  }
  const result = await post(server.baseUrl, '/v1/chat/completions', body)
  expect(result.status).toBe(200)
  const tokenized = await post(server.baseUrl, '/tokenize', { model: 'Qwen/Qwen3-8B', messages, tools })
  return { server, chunks: sseChunks(result.text), promptIds: JSON.parse(tokenized.text).tokens }
}

type Step = [delta: Record<string, unknown> | null, id: number]

/**
 * The exact chunk sequence of a one-choice, one-token-per-chunk stream: role chunk, one frame per step
 * (`null` delta: a parser-swallowed `delta: {}` frame), the finish chunk and the usage chunk.
 */
function expectedChunks(
  run: QuirkRun,
  steps: Step[],
  finish: { delta: Record<string, unknown>; reason: string; stopReason?: null; id: number },
  mode: MockVllmMode = 'current',
): Record<string, unknown>[] {
  const { id, created } = run.chunks[0]!
  const header = { id, object: 'chat.completion.chunk', created, model: 'Qwen/Qwen3-8B' }
  const current = mode === 'current'
  const role: Record<string, unknown> = {
    ...header,
    choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }],
    prompt_token_ids: run.promptIds,
  }
  if (current) role.prompt_text = null
  const frames = steps.flatMap(([delta, tokenId]) => {
    if (delta === null) {
      // legacy-0.10 drops swallowed steps entirely (the real bug), current sends their ids in delta:{}
      return current
        ? [{ ...header, choices: [{ index: 0, delta: {}, finish_reason: null, token_ids: [tokenId] }] }]
        : []
    }
    return [
      {
        ...header,
        choices: [{ index: 0, delta, logprobs: null, finish_reason: null, token_ids: [tokenId] }],
      },
    ]
  })
  const completionTokens = steps.length + 1
  const usage: Record<string, unknown> = {
    ...header,
    choices: [],
    usage: {
      prompt_tokens: run.promptIds.length,
      total_tokens: run.promptIds.length + completionTokens,
      completion_tokens: completionTokens,
    },
  }
  if (current) usage.system_fingerprint = FINGERPRINT
  const finishChoice = {
    index: 0,
    delta: finish.delta,
    logprobs: null,
    finish_reason: finish.reason,
    stop_reason: null,
    token_ids: [finish.id],
  }
  return [role, ...frames, { ...header, choices: [finishChoice] }, usage]
}

/** What a client accumulating `tool_calls` deltas by index ends up with. */
function accumulateToolCalls(chunks: ChunkView[]): Array<{ id?: string; name?: string; arguments: string }> {
  const calls: Array<{ id?: string; name?: string; arguments: string }> = []
  for (const chunk of chunks) {
    for (const delta of chunk.choices[0]?.delta?.tool_calls ?? []) {
      calls[delta.index] ??= { arguments: '' }
      const call = calls[delta.index]!
      if (delta.id) call.id = delta.id
      if (delta.function.name) call.name = delta.function.name
      call.arguments += delta.function.arguments ?? ''
    }
  }
  return calls
}

/** The real tokenizer's ids of the scripted reply, plus `<|im_end|>`. */
function replyIds(server: MockVllmServer, reply: string): number[] {
  return [...server.tokenizer.encode(reply), IM_END]
}

// CALCULATOR_REPLY tokenizes as <tool_call> \n {" name ": Ġ" calculator ", Ġ" arguments ": Ġ{" expression ": Ġ" 2 + 2 "}}\n </tool_call>
const CALCULATOR_IDS = [
  151657, 198, 4913, 606, 788, 330, 88821, 497, 330, 16370, 788, 5212, 28099, 788, 330, 17, 10, 17, 95642,
  151658,
]
/** Steps up to the name (inclusive of `",`, which completes it), each swallowed except the name step. */
function calculatorHead(callId: string): Step[] {
  return [
    [null, 151657],
    [null, 198],
    [null, 4913],
    [null, 606],
    [null, 788],
    [null, 330],
    [null, 88821],
    [{ tool_calls: [{ id: callId, type: 'function', index: 0, function: { name: 'calculator' } }] }, 497],
    [null, 330],
    [null, 16370],
    [null, 788],
  ]
}
const argumentsDelta = (text: string) => ({ tool_calls: [{ index: 0, function: { arguments: text } }] })

function callIdOf(run: QuirkRun): string {
  const id = accumulateToolCalls(run.chunks)[0]?.id
  expect(id).toMatch(/^chatcmpl-tool-[0-9a-f]{16}$/)
  return id!
}

describe('tool-stream quirks, conformance over real HTTP', () => {
  it('the tokenizer ids of the scripted reply are the ones the sequences below spell out', async () => {
    const run = await streamWithQuirks([], CALCULATOR_REPLY)
    expect(replyIds(run.server, CALCULATOR_REPLY)).toEqual([...CALCULATOR_IDS, IM_END])
  })

  it('arguments-in-finish-chunk: the closing rest of the arguments arrives with finish_reason tool_calls', async () => {
    const run = await streamWithQuirks(['arguments-in-finish-chunk'], CALCULATOR_REPLY)
    const steps: Step[] = [
      ...calculatorHead(callIdOf(run)),
      [argumentsDelta('{"'), 5212],
      [argumentsDelta('expression'), 28099],
      [argumentsDelta('":'), 788],
      [argumentsDelta(' "'), 330],
      [argumentsDelta('2'), 17],
      [argumentsDelta('+'), 10],
      [argumentsDelta('2'), 17],
      // the step that closes the arguments releases nothing: its id travels in a delta:{} frame
      [null, 95642],
      [null, 151658],
    ]
    expect(run.chunks).toEqual(
      expectedChunks(run, steps, { delta: argumentsDelta('"}'), reason: 'tool_calls', id: IM_END }),
    )
    expect(JSON.parse(accumulateToolCalls(run.chunks)[0]!.arguments)).toEqual({ expression: '2+2' })
    expect(streamedIds(run.chunks)).toEqual(replyIds(run.server, CALCULATOR_REPLY))
    expect(run.chunks[run.chunks.length - 1]!.usage!.completion_tokens).toBe(streamedIds(run.chunks).length)
  })

  it('arguments-in-finish-chunk: the rest is json.dumps minus the streamed text, so other spacing garbles it (as vLLM did)', async () => {
    const compact = '<tool_call>\n{"name": "calculator", "arguments": {"expression":"2+2"}}\n</tool_call>'
    const run = await streamWithQuirks(['arguments-in-finish-chunk'], compact)
    const finish = run.chunks[run.chunks.length - 2]!.choices[0]!
    // streamed '{"expression":"2+2' is not a prefix of '{"expression": "2+2"}', so the whole dump is resent
    expect(accumulateToolCalls(run.chunks)[0]!.arguments).toBe('{"expression":"2+2{"expression": "2+2"}')
    expect(finish.finish_reason).toBe('tool_calls')
    expect(streamedIds(run.chunks)).toEqual(replyIds(run.server, compact))
  })

  it('one-piece-arguments: the arguments are held until the value closes, then sent in one frame', async () => {
    const run = await streamWithQuirks(['one-piece-arguments'], CALCULATOR_REPLY)
    const steps: Step[] = [
      ...calculatorHead(callIdOf(run)),
      [null, 5212],
      [null, 28099],
      [null, 788],
      [null, 330],
      [null, 17],
      [null, 10],
      [null, 17],
      [argumentsDelta('{"expression": "2+2"}'), 95642],
      [null, 151658],
    ]
    expect(run.chunks).toEqual(expectedChunks(run, steps, { delta: {}, reason: 'tool_calls', id: IM_END }))
    expect(JSON.parse(accumulateToolCalls(run.chunks)[0]!.arguments)).toEqual({ expression: '2+2' })
    expect(streamedIds(run.chunks)).toEqual(replyIds(run.server, CALCULATOR_REPLY))
  })

  it('drop-empty-arguments: a parameterless call streams its name, then finish tool_calls, never "{}"', async () => {
    const run = await streamWithQuirks(['drop-empty-arguments'], GET_TIME_REPLY)
    const callId = callIdOf(run)
    // GET_TIME_REPLY tokenizes as <tool_call> \n {" name ": Ġ" get _time ", Ġ" arguments ": Ġ{} }\n </tool_call>
    const steps: Step[] = [
      [null, 151657],
      [null, 198],
      [null, 4913],
      [null, 606],
      [null, 788],
      [null, 330],
      [null, 455],
      [null, 3009],
      [{ tool_calls: [{ id: callId, type: 'function', index: 0, function: { name: 'get_time' } }] }, 497],
      [null, 330],
      [null, 16370],
      [null, 788],
      [null, 4687],
      [null, 532],
      [null, 151658],
    ]
    expect(run.chunks).toEqual(expectedChunks(run, steps, { delta: {}, reason: 'tool_calls', id: IM_END }))
    const [call] = accumulateToolCalls(run.chunks)
    expect(call).toEqual({ id: callId, name: 'get_time', arguments: '' })
    // a client defaults the missing arguments to "{}", the scripted arguments
    expect(JSON.parse(call!.arguments || '{}')).toEqual({})
    expect(streamedIds(run.chunks)).toEqual(replyIds(run.server, GET_TIME_REPLY))
  })

  it('drop-empty-arguments keeps the arguments of a call that has parameters', async () => {
    const run = await streamWithQuirks(['drop-empty-arguments'], CALCULATOR_REPLY)
    expect(accumulateToolCalls(run.chunks)[0]!.arguments).toBe('{"expression": "2+2"}')
  })

  it('required-name-null: under tool_choice "required" the name travels with the first arguments, later deltas carry name null', async () => {
    const run = await streamWithQuirks(['required-name-null'], CALCULATOR_REPLY, { tool_choice: 'required' })
    const callId = callIdOf(run)
    const later = (text: string) => ({
      tool_calls: [{ index: 0, function: { name: null, arguments: text } }],
    })
    const head = calculatorHead(callId)
    head[7] = [null, 497] // the name waits for the start of the arguments
    const steps: Step[] = [
      ...head,
      [
        {
          tool_calls: [
            { id: callId, type: 'function', index: 0, function: { name: 'calculator', arguments: '{"' } },
          ],
        },
        5212,
      ],
      [later('expression'), 28099],
      [later('":'), 788],
      [later(' "'), 330],
      [later('2'), 17],
      [later('+'), 10],
      [later('2'), 17],
      [later('"}'), 95642],
      [null, 151658],
    ]
    expect(run.chunks).toEqual(expectedChunks(run, steps, { delta: {}, reason: 'tool_calls', id: IM_END }))
    // "name": null is on the wire, not just absent
    const wire = JSON.stringify(run.chunks)
    expect(wire.match(/"name":null/g)).toHaveLength(7)
    expect(JSON.parse(accumulateToolCalls(run.chunks)[0]!.arguments)).toEqual({ expression: '2+2' })
    expect(streamedIds(run.chunks)).toEqual(replyIds(run.server, CALCULATOR_REPLY))
  })

  it('required-name-null changes nothing when tool_choice is "auto"', async () => {
    const run = await streamWithQuirks(['required-name-null'], CALCULATOR_REPLY)
    expect(JSON.stringify(run.chunks)).not.toContain('"name":null')
    expect(accumulateToolCalls(run.chunks)[0]!.name).toBe('calculator')
  })

  it('legacy-0.10 (v0.10.2) finishes with tool_calls on length; current finishes with length and every id', async () => {
    const truncated = { max_tokens: 12 }
    const legacy = await streamWithQuirks([], CALCULATOR_REPLY, truncated, 'legacy-0.10')
    const legacyCallId = accumulateToolCalls(legacy.chunks)[0]!.id!
    expect(legacyCallId).toMatch(/^chatcmpl-tool-[0-9a-f]{32}$/)
    const head = calculatorHead(legacyCallId)
    expect(legacy.chunks).toEqual(
      expectedChunks(
        legacy,
        head,
        { delta: argumentsDelta('{"'), reason: 'tool_calls', id: 5212 },
        'legacy-0.10',
      ),
    )
    const current = await streamWithQuirks([], CALCULATOR_REPLY, truncated)
    expect(current.chunks).toEqual(
      expectedChunks(current, calculatorHead(callIdOf(current)), {
        delta: argumentsDelta('{"'),
        reason: 'length',
        id: 5212,
      }),
    )
    expect(streamedIds(current.chunks)).toEqual(CALCULATOR_IDS.slice(0, 12))
  })

  it('quirks combine: one-piece plus finish-chunk sends the whole last arguments with the finish chunk', async () => {
    const run = await streamWithQuirks(['one-piece-arguments', 'arguments-in-finish-chunk'], CALCULATOR_REPLY)
    const finish = run.chunks[run.chunks.length - 2]!.choices[0]!
    expect(finish).toEqual({
      index: 0,
      delta: argumentsDelta('{"expression": "2+2"}'),
      logprobs: null,
      finish_reason: 'tool_calls',
      stop_reason: null,
      token_ids: [IM_END],
    })
    expect(accumulateToolCalls(run.chunks)[0]!.arguments).toBe('{"expression": "2+2"}')
    expect(streamedIds(run.chunks)).toEqual(replyIds(run.server, CALCULATOR_REPLY))
  })

  it('rejects an unknown quirk with an InvalidOptionError naming it', async () => {
    const error = await startMockVllm({ toolStreamQuirks: ['late-names' as ToolStreamQuirk] }).catch(
      (caught: unknown) => caught,
    )
    expect(InvalidOptionError.isInstance(error)).toBe(true)
    expect((error as InvalidOptionError).message).toBe(
      'startMockVllm: option `toolStreamQuirks` entries must be one of arguments-in-finish-chunk, one-piece-arguments, drop-empty-arguments, required-name-null, got late-names',
    )
  })
})
