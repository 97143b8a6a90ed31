import { inspect } from 'node:util'
import {
  ContextWindowOverflowError,
  MaxTokensError,
  Message,
  ModelError,
  type ModelStreamEvent,
  ModelThrottledError,
  ReasoningBlock,
  TextBlock,
  ToolUseBlock,
} from '@strands-agents/sdk'
import {
  APICallError,
  ContextOverflowError,
  INVALID_JSON_ARGUMENTS_KEY,
  InvalidOptionError,
  StreamInterruptedError,
  StreamingUnsupportedError,
  toResponseFields,
} from '@vllm-tito/spec'
import { makeRecord } from '@vllm-tito/spec/testing'
import { describe, expect, it } from 'vitest'
import { replyEvents, type ScriptedCall, scriptedClient } from './__fixtures__/scripted-client'
import { VLLMModel } from './vllm-model'

const userMessage = new Message({ role: 'user', content: [new TextBlock('What is 2+2?')] })

function modelWith(
  calls: ScriptedCall[],
  config: { returnTokenIds?: boolean; disableTools?: boolean; stream?: boolean } = {},
) {
  const client = scriptedClient(calls)
  const model = new VLLMModel({ modelId: 'Qwen/Qwen3-8B', client, ...config })
  return { model, client }
}

async function collect(events: AsyncIterable<ModelStreamEvent>): Promise<ModelStreamEvent[]> {
  const collected: ModelStreamEvent[] = []
  for await (const event of events) collected.push(event)
  return collected
}

async function aggregate(model: VLLMModel, messages: Message[] = [userMessage]) {
  const generator = model.streamAggregated(messages)
  let step = await generator.next()
  while (!step.done) step = await generator.next()
  return step.value
}

const usageEvent = {
  type: 'modelMetadataEvent',
  usage: { inputTokens: 3, outputTokens: 2, totalTokens: 5 },
  metrics: { latencyMs: 2, timeToFirstByteMs: 1 },
}

describe('VLLMModel.stream', () => {
  it('streams text in one nested block and puts the record into the message-stop event', async () => {
    const { events, record } = replyEvents({ text: ['The answer', ' is 4.'] })
    const { model } = modelWith([{ events }])
    expect(await collect(model.stream([userMessage]))).toEqual([
      { type: 'modelMessageStartEvent', role: 'assistant' },
      { type: 'modelContentBlockStartEvent' },
      { type: 'modelContentBlockDeltaEvent', delta: { type: 'textDelta', text: 'The answer' } },
      { type: 'modelContentBlockDeltaEvent', delta: { type: 'textDelta', text: ' is 4.' } },
      { type: 'modelContentBlockStopEvent' },
      {
        type: 'modelMessageStopEvent',
        stopReason: 'endTurn',
        additionalModelResponseFields: {
          prompt_token_ids: [151644, 872, 198],
          token_ids: [9707, 151645],
          token_record: record,
        },
      },
      usageEvent,
    ])
  })

  it('keeps reasoning, the text before a tool call, and every parallel call in separate blocks', async () => {
    const { events } = replyEvents({
      reasoning: ['Two calls', ' needed.'],
      text: ['\n\nLet me compute.'],
      toolCalls: [
        { id: 'call-a', name: 'calculator', fragments: ['{"expression": "', '2+2"}'] },
        { id: 'call-b', name: 'calculator', fragments: ['{"expression": "3*3"}'] },
      ],
    })
    const { model } = modelWith([{ events }])
    const streamed = await collect(model.stream([userMessage]))
    expect(streamed.slice(0, 9)).toEqual([
      { type: 'modelMessageStartEvent', role: 'assistant' },
      { type: 'modelContentBlockStartEvent' },
      { type: 'modelContentBlockDeltaEvent', delta: { type: 'reasoningContentDelta', text: 'Two calls' } },
      { type: 'modelContentBlockDeltaEvent', delta: { type: 'reasoningContentDelta', text: ' needed.' } },
      { type: 'modelContentBlockStopEvent' },
      { type: 'modelContentBlockStartEvent' },
      { type: 'modelContentBlockDeltaEvent', delta: { type: 'textDelta', text: '\n\nLet me compute.' } },
      { type: 'modelContentBlockStopEvent' },
      {
        type: 'modelContentBlockStartEvent',
        start: { type: 'toolUseStart', name: 'calculator', toolUseId: 'call-a' },
      },
    ])
    expect(streamed.slice(9, 14)).toEqual([
      {
        type: 'modelContentBlockDeltaEvent',
        delta: { type: 'toolUseInputDelta', input: '{"expression": "2+2"}' },
      },
      { type: 'modelContentBlockStopEvent' },
      {
        type: 'modelContentBlockStartEvent',
        start: { type: 'toolUseStart', name: 'calculator', toolUseId: 'call-b' },
      },
      {
        type: 'modelContentBlockDeltaEvent',
        delta: { type: 'toolUseInputDelta', input: '{"expression": "3*3"}' },
      },
      { type: 'modelContentBlockStopEvent' },
    ])
    expect(streamed[14]).toMatchObject({ type: 'modelMessageStopEvent', stopReason: 'toolUse' })
    expect(streamed).toHaveLength(16)
  })

  it('wraps malformed tool-call JSON instead of failing, and defaults missing arguments to {}', async () => {
    const { events } = replyEvents({
      toolCalls: [
        { id: 'call-a', name: 'calculator', fragments: ['{"expression": 2+2'] },
        { id: 'call-b', name: 'clock', fragments: [] },
      ],
    })
    const { model } = modelWith([{ events }])
    const result = await aggregate(model)
    expect(result.stopReason).toBe('toolUse')
    expect(result.message.content).toEqual([
      new ToolUseBlock({
        name: 'calculator',
        toolUseId: 'call-a',
        input: { [INVALID_JSON_ARGUMENTS_KEY]: '{"expression": 2+2' },
      }),
      new ToolUseBlock({ name: 'clock', toolUseId: 'call-b', input: {} }),
    ])
  })

  it('names calls the server sent without an id after the response and the call index', async () => {
    const { events } = replyEvents({ toolCalls: [{ name: 'calculator', fragments: ['{}'] }] })
    const { model } = modelWith([{ events }])
    const result = await aggregate(model)
    expect(result.message.content).toEqual([
      new ToolUseBlock({ name: 'calculator', toolUseId: 'chatcmpl-1-tool-0', input: {} }),
    ])
  })

  it.each([
    ['stop', false, 'endTurn'],
    ['tool_calls', false, 'endTurn'],
    ['tool_calls', true, 'toolUse'],
    ['stop', true, 'toolUse'],
    ['content_filter', false, 'contentFiltered'],
  ])('maps finish_reason %s (tool calls: %s) to %s', async (finishReason, withCall, stopReason) => {
    const { events } = replyEvents({
      text: ['x'],
      finishReason,
      ...(withCall && { toolCalls: [{ id: 'call-a', name: 'calculator', fragments: ['{}'] }] }),
    })
    const { model } = modelWith([{ events }])
    const stop = (await collect(model.stream([userMessage]))).find(
      (event) => event.type === 'modelMessageStopEvent',
    )
    expect(stop).toMatchObject({ stopReason })
  })

  it('maps length to maxTokens; MaxTokensError carries the record on its partial message', async () => {
    const { events, record } = replyEvents({ text: ['cut off'], finishReason: 'length' })
    const { model } = modelWith([{ events }])
    const error = await aggregate(model).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(MaxTokensError)
    const partial = (error as MaxTokensError).partialMessage
    expect(partial.content).toEqual([new TextBlock('cut off')])
    expect(partial.metadata?.custom?.vllm).toEqual(toResponseFields(record))
  })

  it("takes the stop reason from the final record, which corrects vLLM 0.10.2's tool_calls on length", async () => {
    // the choice-end event says tool_calls (the ids were dropped, so only usage showed the max_tokens cut)
    const { events } = replyEvents({
      toolCalls: [{ id: 'call-1', name: 'add', fragments: ['{"a": 2,'] }],
      record: { finishReason: 'length' },
    })
    const { model } = modelWith([{ events }])
    const stop = (await collect(model.stream([userMessage]))).find(
      (event) => event.type === 'modelMessageStopEvent',
    )
    expect(stop).toMatchObject({ stopReason: 'maxTokens' })
  })

  it('reports finish_reason error after the stop event, then fails the call', async () => {
    const { events } = replyEvents({ text: ['par'], finishReason: 'error' })
    const { model } = modelWith([{ events }])
    const seen: ModelStreamEvent[] = []
    const error = await (async () => {
      for await (const event of model.stream([userMessage])) seen.push(event)
    })().catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ModelError)
    expect((error as Error).message).toBe("vLLM gave up on the request (finish_reason 'error')")
    expect(seen.map((event) => event.type).slice(-2)).toEqual(['modelMessageStopEvent', 'modelMetadataEvent'])
  })
})

describe('VLLMModel.streamAggregated', () => {
  it('copies the response fields onto message.metadata.custom.vllm next to usage', async () => {
    const { events, record } = replyEvents({ reasoning: ['think'], text: ['4'] })
    const { model } = modelWith([{ events }])
    const result = await aggregate(model)
    expect(result.message.content).toEqual([new ReasoningBlock({ text: 'think' }), new TextBlock('4')])
    expect(result.message.metadata).toEqual({
      usage: { inputTokens: 3, outputTokens: 2, totalTokens: 5 },
      metrics: { latencyMs: 2, timeToFirstByteMs: 1 },
      custom: { vllm: toResponseFields(record) },
    })
  })

  it('keeps records without ids (returnTokenIds off) as unavailable, never as exact', async () => {
    const unavailable = makeRecord({
      promptTokenIds: null,
      tokenIds: null,
      verification: {
        status: 'unavailable',
        verified: false,
        promptIdsCount: null,
        usagePromptTokens: 3,
        completionIdsCount: null,
        usageCompletionTokens: 2,
        issues: ['no ids'],
      },
    })
    const { events } = replyEvents({ text: ['Hello'], record: unavailable })
    const { model, client } = modelWith([{ events }])
    const result = await aggregate(model)
    expect(client.received[0]?.request.return_token_ids).toBe(false)
    expect(result.message.metadata?.custom?.vllm).toEqual({
      prompt_token_ids: null,
      token_ids: null,
      token_record: unavailable,
    })
  })
})

describe('VLLMModel errors', () => {
  it.each([
    [
      'HTTP 429',
      new APICallError({ message: 'rate limited', statusCode: 429 }),
      ModelThrottledError,
      'rate limited',
    ],
    [
      'context overflow',
      new ContextOverflowError({
        message: "This model's maximum context length is 40 tokens.",
        statusCode: 400,
      }),
      ContextWindowOverflowError,
      "This model's maximum context length is 40 tokens.",
    ],
    ['HTTP 500', new APICallError({ message: 'boom', statusCode: 500 }), ModelError, 'boom'],
    [
      'an interrupted stream',
      new StreamInterruptedError('connection reset', [makeRecord({ complete: false })]),
      ModelError,
      'connection reset',
    ],
  ])('maps %s to the Strands error and keeps the cause', async (_name, cause, errorClass, message) => {
    const { events } = replyEvents({ text: ['x'] })
    const { model } = modelWith([{ events: events.slice(0, 3), error: cause }])
    const error = await collect(model.stream([userMessage])).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(errorClass)
    expect((error as Error).constructor).toBe(errorClass)
    expect((error as Error).message).toBe(message)
    expect((error as Error).cause).toBe(cause)
  })

  it('fails clearly when the stream ends without its records', async () => {
    const { events } = replyEvents({ text: ['x'] })
    const { model } = modelWith([{ events: events.slice(0, -1) }])
    const error = await collect(model.stream([userMessage])).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ModelError)
    expect((error as Error).message).toBe(
      'the vLLM stream ended without its final records (no response-end event)',
    )
  })

  it('forwards cancelSignal to the client, which aborts the request', async () => {
    const { events } = replyEvents({ text: ['x'] })
    const { model, client } = modelWith([{ events: events.slice(0, 3), waitForAbort: true }])
    const controller = new AbortController()
    const pending = collect(model.stream([userMessage], { cancelSignal: controller.signal }))
    controller.abort()
    const error = await pending.catch((caught: unknown) => caught)
    expect(client.received[0]?.options?.signal).toBe(controller.signal)
    expect(error).toBeInstanceOf(ModelError)
    expect(((error as Error).cause as Error).name).toBe('AbortError')
  })
})

describe('VLLMModel with stream: false', () => {
  it("calls chat.createEvents with the signal and maps its events as a stream's", async () => {
    const { events, record } = replyEvents({ text: ['The answer is 4.'] })
    const streaming = modelWith([{ events }])
    const nonStreaming = modelWith([{ events }], { stream: false })
    const controller = new AbortController()
    const fromStream = await collect(streaming.model.stream([userMessage]))
    const fromBody = await collect(
      nonStreaming.model.stream([userMessage], { cancelSignal: controller.signal }),
    )
    expect(streaming.client.received.map((call) => call.method)).toEqual(['stream'])
    expect(nonStreaming.client.received.map((call) => call.method)).toEqual(['createEvents'])
    expect(nonStreaming.client.received[0]?.options?.signal).toBe(controller.signal)
    expect(fromBody).toEqual(fromStream)
    expect(fromBody.at(-2)).toMatchObject({ additionalModelResponseFields: { token_record: record } })
  })

  it('refuses stream: false for a client without chat.createEvents, and a stream value that is not a boolean', () => {
    const streamOnly = { chat: { stream: scriptedClient([]).chat.stream } }
    const cases: Array<[() => unknown, string]> = [
      [
        () => new VLLMModel({ modelId: 'm', client: streamOnly, stream: false }),
        'new VLLMModel: `stream: false` needs a client with chat.createEvents (a VLLMClient has it); the given client can only stream',
      ],
      [
        () => new VLLMModel({ modelId: 'm', client: streamOnly }).updateConfig({ stream: false }),
        'VLLMModel.updateConfig: `stream: false` needs a client with chat.createEvents (a VLLMClient has it); the given client can only stream',
      ],
      [
        () => new VLLMModel({ modelId: 'm', baseUrl: 'http://h:1/v1', stream: 'no' as never }),
        'new VLLMModel: option `stream` must be `true` or `false`, got the string "no"',
      ],
    ]
    for (const [create, message] of cases) {
      const error = (() => {
        try {
          create()
        } catch (caught) {
          return caught
        }
        return undefined
      })()
      expect(InvalidOptionError.isInstance(error), message).toBe(true)
      expect((error as InvalidOptionError).option).toBe('stream')
      expect((error as InvalidOptionError).message).toBe(message)
    }
    expect(new VLLMModel({ modelId: 'm', baseUrl: 'http://h:1/v1', stream: false }).getConfig()).toEqual({
      modelId: 'm',
      baseUrl: 'http://h:1/v1',
      stream: false,
    })
  })

  it('fails the call clearly when the client lost chat.createEvents after the model was made', async () => {
    const client = scriptedClient([])
    const model = new VLLMModel({ modelId: 'm', client, stream: false })
    ;(client.chat as { createEvents?: unknown }).createEvents = undefined
    const error = await collect(model.stream([userMessage])).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ModelError)
    expect((error as Error).message).toBe(
      '`stream: false` needs a client with chat.createEvents; the client can only stream',
    )
  })

  it('maps a server refusing streaming to a ModelError that says to set stream: false', async () => {
    const refusal = new StreamingUnsupportedError({
      message: 'vLLM /v1/chat/completions returned HTTP 400: Streaming responses are not supported',
      statusCode: 400,
      path: '/v1/chat/completions',
      responseBody: '{"detail":"Streaming responses are not supported"}',
    })
    const { model } = modelWith([{ events: [], error: refusal }])
    const error = await collect(model.stream([userMessage])).catch((caught: unknown) => caught)
    expect((error as Error).constructor).toBe(ModelError)
    expect((error as Error).message).toBe(
      "the server refuses streaming calls (HTTP 400 from /v1/chat/completions); set `stream: false` on VLLMModel (new VLLMModel({ …, stream: false })), as Agent Lightning's gateway requires",
    )
    expect((error as Error).cause).toBe(refusal)
  })
})

describe('VLLMModel config', () => {
  it('rejects a missing modelId or baseUrl with an InvalidOptionError naming the option', () => {
    const cases: Array<[() => unknown, string, string]> = [
      [
        () => new VLLMModel({ baseUrl: 'http://127.0.0.1:1/v1' }),
        'modelId',
        'new VLLMModel: VLLMModel needs `modelId`: the model name the vLLM server serves, e.g. Qwen/Qwen3-8B',
      ],
      [
        () => new VLLMModel({ modelId: 'm' }),
        'baseUrl',
        'new VLLMModel: VLLMModel needs `baseUrl` (e.g. http://localhost:8000/v1) unless a `client` is passed',
      ],
      [
        () => new VLLMModel({ modelId: 'm', client: scriptedClient([]), params: { extra_body: 3 } }),
        'params.extra_body',
        'new VLLMModel: `params.extra_body` must be an object; its fields are merged into the request',
      ],
      [
        () => new VLLMModel({ modelId: 'm', baseUrl: 'http://h:1/v1', returnTokenId: true } as never),
        'returnTokenId',
        'new VLLMModel: unknown option `returnTokenId` (did you mean `returnTokenIds`?); known options: baseUrl, modelId, returnTokenIds, disableTools, stream, params, maxTokens, temperature, topP, contextWindowLimit, tokenIn, apiKey, tokenizeApiKey, client',
      ],
      [
        () => new VLLMModel({ modelId: 'm', client: { chat: {} } as never }),
        'client',
        'new VLLMModel: option `client` must be a TokenStreamingClient (an object with chat.stream), got an object',
      ],
      [
        () => new VLLMModel({ modelId: 'm', baseUrl: 'http://h:1/v1' }).updateConfig({ maxTokens: 0 }),
        'maxTokens',
        'VLLMModel.updateConfig: option `maxTokens` must be an integer >= 1, got 0',
      ],
    ]
    for (const [create, option, message] of cases) {
      const error = (() => {
        try {
          create()
        } catch (caught) {
          return caught
        }
        return undefined
      })()
      expect(InvalidOptionError.isInstance(error), message).toBe(true)
      expect((error as InvalidOptionError).option).toBe(option)
      expect((error as InvalidOptionError).message).toBe(message)
    }
  })

  it('returns the config without the API key and merges updates', () => {
    const model = new VLLMModel({
      modelId: 'm',
      baseUrl: 'http://127.0.0.1:1/v1',
      apiKey: 'secret-key',
      returnTokenIds: true,
    })
    model.updateConfig({ temperature: 0.5 })
    expect(model.getConfig()).toEqual({
      modelId: 'm',
      baseUrl: 'http://127.0.0.1:1/v1',
      returnTokenIds: true,
      temperature: 0.5,
    })
    expect(model.modelId).toBe('m')
  })

  it('never shows the API key in util.inspect, JSON.stringify or the enumerable properties', () => {
    const secret = 'sk-live-DO-NOT-LEAK-4242'
    const model = new VLLMModel({ modelId: 'm', baseUrl: 'http://127.0.0.1:1/v1', apiKey: secret })
    model.updateConfig({ baseUrl: 'http://127.0.0.1:2/v1' })
    expect(inspect(model, { depth: 10, showHidden: true })).not.toContain(secret)
    expect(JSON.stringify(model)).not.toContain(secret)
    expect(Object.values(model).map(String).join(' ')).not.toContain(secret)
  })
})
