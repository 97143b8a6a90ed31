// VLLMTokenRecorder end to end with the real provider: a real Strands Agent with VLLMModel over HTTP against
// mock-vllm on loopback (real Qwen3 tokenizer and chat template), the real OpenTelemetry SDK with an in-memory
// exporter, and the real JsonlFileSink in a temporary folder.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { context, propagation, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api'
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node'
import {
  Agent,
  type JSONValue,
  MaxTokensError,
  ModelError,
  ModelStreamUpdateEvent,
  NullConversationManager,
  tool,
} from '@strands-agents/sdk'
import { VLLMClient } from '@vllm-tito/client'
import {
  type MockFault,
  type MockVllmOptions,
  type MockVllmServer,
  startMockVllm,
} from '@vllm-tito/mock-vllm'
import { JsonlFileSink, type RecorderError, readJsonlRecords } from '@vllm-tito/recorder'
import { VLLMTokenRecorder, type VLLMTokenRecorderOptions } from '@vllm-tito/recorder/strands'
import {
  type ChatMessage,
  extractTokenRecord,
  StreamInterruptedError,
  type TokenRecord,
  toResponseFields,
} from '@vllm-tito/spec'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { VLLMModel } from '../vllm-model'

const MODEL_ID = 'Qwen/Qwen3-8B'
const IM_END = 151645
const TOKEN_SPAN_NAME = 'openai.chat.completion'
/** Every span attribute that carries token ids or their counts. */
const ID_ATTRIBUTE_KEYS = [
  'prompt_token_ids',
  'response_token_ids',
  'llm.hosted_vllm.prompt_token_ids',
  'llm.hosted_vllm.response_token_ids',
  'llm.token_count.prompt',
  'llm.token_count.completion',
]

const servers: MockVllmServer[] = []
const temporaryFolders: string[] = []
let tracerProvider: NodeTracerProvider | undefined

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()))
  await tracerProvider?.shutdown()
  tracerProvider = undefined
  // register() set the global provider, context manager and propagator: unset all three so the next test
  // starts without tracing (or can register its own provider)
  trace.disable()
  context.disable()
  propagation.disable()
  await Promise.all(temporaryFolders.splice(0).map((folder) => rm(folder, { recursive: true, force: true })))
})

async function startServer(options: MockVllmOptions): Promise<MockVllmServer> {
  const server = await startMockVllm({ model: MODEL_ID, ...options })
  servers.push(server)
  return server
}

/** Registers a NodeTracerProvider (AsyncLocalStorage context) that keeps finished spans in memory. */
function startTracing(): { exporter: InMemorySpanExporter; tracer: Tracer } {
  const exporter = new InMemorySpanExporter()
  tracerProvider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  tracerProvider.register()
  return { exporter, tracer: trace.getTracer('rollout-runner') }
}

/** Runs `work` inside an active rollout span, as a rollout runner would; returns the span's id. */
async function inRolloutSpan<T>(
  tracer: Tracer,
  work: () => Promise<T>,
): Promise<{ result: T; spanId: string; traceId: string }> {
  return tracer.startActiveSpan('rollout', async (span) => {
    try {
      const result = await work()
      return { result, ...span.spanContext() }
    } finally {
      span.end()
    }
  })
}

function tokenSpans(exporter: InMemorySpanExporter): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((span) => span.name === TOKEN_SPAN_NAME)
}

function modelFor(mock: MockVllmServer, config: { maxTokens?: number; client?: VLLMClient } = {}): VLLMModel {
  return new VLLMModel({ baseUrl: `${mock.baseUrl}/v1`, modelId: MODEL_ID, returnTokenIds: true, ...config })
}

const calculator = tool({
  name: 'calculator',
  description: 'Evaluates an arithmetic expression such as 2+2.',
  inputSchema: z.object({ expression: z.string() }).strict(),
  callback: ({ expression }) => {
    const [left, operator, right] = /^(\d+)\s*([+*])\s*(\d+)$/.exec(expression)?.slice(1) ?? []
    if (left === undefined || right === undefined) throw new Error(`cannot evaluate ${expression}`)
    return String(operator === '+' ? Number(left) + Number(right) : Number(left) * Number(right))
  },
})

const toolCallReply = (expression: string) =>
  `<tool_call>\n{"name": "calculator", "arguments": {"expression": "${expression}"}}\n</tool_call>`

/**
 * An agent set up for RL rollouts: no printer, no conversation manager trimming the history, no SDK retries
 * (a retried call would be a second sample of the same turn), one agent per rollout.
 */
function rolloutAgent(model: VLLMModel, recorder?: VLLMTokenRecorder, id?: string): Agent {
  return new Agent({
    model,
    tools: [calculator],
    plugins: recorder === undefined ? [] : [recorder],
    printer: false,
    conversationManager: new NullConversationManager(),
    retryStrategy: null,
    ...(id !== undefined && { id }),
  })
}

/** A recorder whose side-effect failures are collected (and asserted empty) instead of becoming warnings. */
function newRecorder(options: VLLMTokenRecorderOptions = {}): {
  recorder: VLLMTokenRecorder
  failures: RecorderError[]
} {
  const failures: RecorderError[] = []
  const recorder = new VLLMTokenRecorder({ ...options, onError: (error) => failures.push(error) })
  return { recorder, failures }
}

/** Keeps the `additionalModelResponseFields` of every message-stop event the agent sees, in order. */
function captureStopFields(agent: Agent): Array<JSONValue | undefined> {
  const fields: Array<JSONValue | undefined> = []
  agent.addHook(ModelStreamUpdateEvent, (event) => {
    if (event.event.type === 'modelMessageStopEvent') fields.push(event.event.additionalModelResponseFields)
  })
  return fields
}

function chatRequestBody(mock: MockVllmServer): Record<string, unknown> {
  const request = mock.requests.find((candidate) => candidate.path === '/v1/chat/completions')
  if (request === undefined) throw new Error('the mock received no chat request')
  return request.body as Record<string, unknown>
}

function chatRequestCount(mock: MockVllmServer): number {
  return mock.requests.filter((request) => request.path === '/v1/chat/completions').length
}

/** What mock-vllm put on the wire for one streamed chat call. */
interface WireResponse {
  id: string
  promptTokenIds: number[]
  tokenIds: number[]
}

/**
 * A `fetch` that reads a copy of every chat response body, so the tests compare the span attributes with the
 * ids mock-vllm actually sent rather than with the client's own record of them.
 */
function wireCapturingFetch(responses: Array<Promise<WireResponse>>): typeof globalThis.fetch {
  return async (input, init) => {
    const response = await globalThis.fetch(input, init)
    const url = input instanceof Request ? input.url : String(input)
    if (url.endsWith('/chat/completions')) responses.push(response.clone().text().then(parseWireResponse))
    return response
  }
}

function parseWireResponse(body: string): WireResponse {
  const chunks = body
    .split('\n')
    .filter((line) => line.startsWith('data: ') && line !== 'data: [DONE]')
    .map(
      (line) =>
        JSON.parse(line.slice('data: '.length)) as {
          id: string
          prompt_token_ids?: number[]
          choices: Array<{ token_ids?: number[] }>
        },
    )
  return {
    id: chunks[0]!.id,
    promptTokenIds: chunks.find((chunk) => chunk.prompt_token_ids !== undefined)!.prompt_token_ids!,
    tokenIds: chunks.flatMap((chunk) => chunk.choices.flatMap((choice) => choice.token_ids ?? [])),
  }
}

/** A record without its wall-clock timing, the only part two identical runs cannot share. */
function withoutTiming(record: TokenRecord): Omit<TokenRecord, 'timing'> {
  const { timing: _timing, ...rest } = record
  return rest
}

describe('VLLMTokenRecorder with VLLMModel against mock-vllm', () => {
  it('records exactly the token record VLLMModel put on each stop event and message', async () => {
    const mock = await startServer({ policy: { script: [toolCallReply('2+2'), 'The answer is 4.'] } })
    const { recorder, failures } = newRecorder()
    const agent = rolloutAgent(modelFor(mock), recorder)
    const stopFields = captureStopFields(agent)
    await agent.invoke('What is 2+2?')

    expect(recorder.history).toHaveLength(2)
    const assistantFields = agent.messages
      .filter((message) => message.role === 'assistant')
      .map((message) => message.metadata?.custom?.vllm)
    recorder.history.forEach((record, index) => {
      // the stop event carries toResponseFields(record), and the message keeps the same fields
      expect(stopFields[index]).toStrictEqual(toResponseFields(record))
      expect(extractTokenRecord(stopFields[index])).toStrictEqual(record)
      expect(assistantFields[index]).toStrictEqual(toResponseFields(record))
      expect(record.verification.status).toBe('verified')
      expect(record.verification.verified).toBe(true)
      expect(record.complete).toBe(true)
      expect(record.tokenIds!.at(-1)).toBe(IM_END)
      expect(record.promptTokenIds!.length).toBe(record.usage!.promptTokens)
      expect(record.tokenIds!.length).toBe(record.usage!.completionTokens)
    })
    expect(stopFields).toHaveLength(2)
    expect(assistantFields).toHaveLength(2)
    expect(recorder.promptTokenIds).toEqual(recorder.history[1]!.promptTokenIds)
    expect(recorder.tokenIds).toEqual([...mock.tokenizer.encode('The answer is 4.'), IM_END])
    expect(failures).toEqual([])
  })

  it('keeps one record per model call of a tool loop, in order, each prompt extending the last', async () => {
    const replies = [toolCallReply('2+2'), toolCallReply('4*3'), 'The answer is 12.']
    const mock = await startServer({ policy: { script: replies } })
    const { recorder, failures } = newRecorder()
    const result = await rolloutAgent(modelFor(mock), recorder).invoke('What is (2+2)*3?')

    expect(result.stopReason).toBe('endTurn')
    expect(chatRequestCount(mock)).toBe(3)
    expect(recorder.history).toHaveLength(3)
    expect(recorder.history.map((record) => record.finishReason)).toEqual([
      'tool_calls',
      'tool_calls',
      'stop',
    ])
    expect(recorder.history.map((record) => mock.tokenizer.decode(record.tokenIds!))).toEqual(
      replies.map((reply) => `${reply}<|im_end|>`),
    )
    expect(new Set(recorder.history.map((record) => record.responseId)).size).toBe(3)
    for (let turn = 1; turn < recorder.history.length; turn += 1) {
      const previous = recorder.history[turn - 1]!
      const expectedPrefix = [...previous.promptTokenIds!, ...previous.tokenIds!]
      const prompt = recorder.history[turn]!.promptTokenIds!
      expect(prompt.length).toBeGreaterThan(expectedPrefix.length)
      expect(prompt.slice(0, expectedPrefix.length)).toEqual(expectedPrefix)
    }
    expect(failures).toEqual([])
  })

  it('keeps the record of a length finish although the agent throws MaxTokensError', async () => {
    const mock = await startServer({
      policy: { script: ['one two three four five six seven eight nine ten'] },
    })
    const { recorder, failures } = newRecorder()
    const agent = rolloutAgent(modelFor(mock, { maxTokens: 4 }), recorder)
    const error = await agent.invoke('Count to ten.').catch((caught: unknown) => caught)

    expect(error).toBeInstanceOf(MaxTokensError)
    expect(recorder.history).toHaveLength(1)
    const record = recorder.history[0]!
    expect(record.finishReason).toBe('length')
    // the first four ids of the reply, with no end-of-turn token: the model was cut off
    expect(record.tokenIds).toEqual(
      mock.tokenizer.encode('one two three four five six seven eight nine ten').slice(0, 4),
    )
    expect(record.verification.status).toBe('verified')
    expect(record.usage?.completionTokens).toBe(4)
    expect(extractTokenRecord((error as MaxTokensError).partialMessage.metadata?.custom?.vllm)).toStrictEqual(
      record,
    )
    expect(failures).toEqual([])
  })

  // three chunks reach the client: the role chunk and the first two tokens
  const interruptions: Array<{ name: string; fault: MockFault; reason: RegExp }> = [
    {
      name: 'a connection reset',
      fault: { kind: 'reset', afterChunks: 3 },
      reason: /^the connection dropped: /,
    },
    {
      name: 'a mid-stream error',
      fault: { kind: 'mid-stream-error', afterChunks: 3 },
      reason: /^vLLM sent an error mid-stream \(code 500 InternalServerError\)/,
    },
  ]
  it.each(interruptions)(
    'never records a verified record for a stream cut by $name',
    async ({ fault, reason }) => {
      const reply = 'This answer is much longer than three chunks.'
      const mock = await startServer({ policy: { script: [reply] }, faults: [fault] })
      const { exporter, tracer } = startTracing()
      const { recorder, failures } = newRecorder()
      const agent = rolloutAgent(modelFor(mock), recorder)
      const error = await inRolloutSpan(tracer, () => agent.invoke('Talk.')).catch(
        (caught: unknown) => caught,
      )

      expect(error).toBeInstanceOf(ModelError)
      const interrupted = (error as ModelError).cause
      expect(StreamInterruptedError.isInstance(interrupted)).toBe(true)
      // the client does not replay a stream that already started
      expect(chatRequestCount(mock)).toBe(1)

      // a provider may record the partial call or none; whatever it recorded must say it is partial
      expect(recorder.history.filter((record) => record.verification.verified)).toEqual([])
      for (const record of recorder.history) {
        expect(record.complete).toBe(false)
        expect(record.verification.status).toBe('incomplete')
      }
      const spansDuringRun = tokenSpans(exporter)
      expect(spansDuringRun).toHaveLength(recorder.history.length)
      for (const span of spansDuringRun) expect(span.status.code).toBe(SpanStatusCode.ERROR)

      // the partial record the error carries: only what arrived, flagged incomplete
      const partial = (interrupted as StreamInterruptedError).partialRecord!
      const fullIds = [...mock.tokenizer.encode(reply), IM_END]
      expect(partial.complete).toBe(false)
      expect(partial.verification.status).toBe('incomplete')
      expect(partial.verification.verified).toBe(false)
      expect(partial.tokenIds).toEqual(fullIds.slice(0, 2))
      expect(partial.text).toBe(mock.tokenizer.decode(fullIds.slice(0, 2)))
      expect(partial.finishReason).toBeNull()
      expect(partial.verification.issues).toEqual([expect.stringContaining('the call did not finish')])
      expect((interrupted as StreamInterruptedError).message).toMatch(reason)

      // recorded by the caller, it gives a span with an ERROR status under the rollout span
      const { spanId } = await inRolloutSpan(tracer, async () => recorder.record(partial))
      const partialSpan = tokenSpans(exporter).at(-1)!
      expect(partialSpan.status.code).toBe(SpanStatusCode.ERROR)
      expect(partialSpan.parentSpanContext?.spanId).toBe(spanId)
      expect(partialSpan.attributes['vllm_tito.complete']).toBe(false)
      expect(partialSpan.attributes['vllm_tito.verification.status']).toBe('incomplete')
      expect(partialSpan.attributes['vllm_tito.verification.verified']).toBe(false)
      expect(failures).toEqual([])
    },
  )

  it('flags a server without token ids (pre-0.10.2) unavailable and writes no id attributes', async () => {
    const mock = await startServer({ mode: 'pre-0.10.2', policy: { script: ['The answer is 4.'] } })
    const { exporter, tracer } = startTracing()
    const { recorder, failures } = newRecorder()
    const agent = rolloutAgent(modelFor(mock), recorder)
    await inRolloutSpan(tracer, () => agent.invoke('What is 2+2?'))

    expect(recorder.history).toHaveLength(1)
    const record = recorder.history[0]!
    expect(record.verification.status).toBe('unavailable')
    expect(record.verification.verified).toBe(false)
    expect(record.promptTokenIds).toBeNull()
    expect(record.tokenIds).toBeNull()
    expect(recorder.promptTokenIds).toBeNull()
    expect(recorder.tokenIds).toBeNull()
    expect(record.text).toBe('The answer is 4.')

    const spans = tokenSpans(exporter)
    expect(spans).toHaveLength(1)
    const attributes = spans[0]!.attributes
    for (const key of ID_ATTRIBUTE_KEYS) expect(attributes).not.toHaveProperty([key])
    expect(attributes['vllm_tito.verification.status']).toBe('unavailable')
    expect(attributes['vllm_tito.verification.verified']).toBe(false)
    expect(attributes['gen_ai.response.id']).toBe(record.responseId)
    // the server still counts tokens; only the ids are missing
    expect(record.usage?.completionTokens).toBe(mock.tokenizer.encode('The answer is 4.').length + 1)
    expect(attributes['gen_ai.usage.output_tokens']).toBe(record.usage?.completionTokens)
    expect(chatRequestBody(mock).return_token_ids).toBe(true)
    expect(failures).toEqual([])
  })

  it('writes one span per call under the rollout span with the ids and response id mock-vllm sent', async () => {
    const mock = await startServer({
      policy: { script: [toolCallReply('2+2'), toolCallReply('4*3'), 'The answer is 12.'] },
    })
    const { exporter, tracer } = startTracing()
    const wire: Array<Promise<WireResponse>> = []
    const client = new VLLMClient({ baseUrl: `${mock.baseUrl}/v1`, fetch: wireCapturingFetch(wire) })
    const { recorder, failures } = newRecorder({ rolloutId: 'rollout-6' })
    const agent = rolloutAgent(modelFor(mock, { client }), recorder, 'agent-6')
    const rollout = await inRolloutSpan(tracer, () => agent.invoke('What is (2+2)*3?'))
    const responses = await Promise.all(wire)

    expect(responses).toHaveLength(3)
    expect(recorder.history).toHaveLength(3)
    const spans = tokenSpans(exporter)
    expect(spans).toHaveLength(3)
    spans.forEach((span, callIndex) => {
      const sent = responses[callIndex]!
      expect(span.parentSpanContext?.spanId).toBe(rollout.spanId)
      expect(span.spanContext().traceId).toBe(rollout.traceId)
      expect(span.attributes['vllm_tito.call_index']).toBe(callIndex)
      expect(span.attributes['vllm_tito.rollout_id']).toBe('rollout-6')
      expect(span.attributes['gen_ai.agent.id']).toBe('agent-6')
      expect(span.attributes['gen_ai.response.id']).toBe(sent.id)
      expect(span.attributes.prompt_token_ids).toEqual(sent.promptTokenIds)
      expect(span.attributes.response_token_ids).toEqual(sent.tokenIds)
      expect(span.attributes['llm.hosted_vllm.prompt_token_ids']).toEqual(sent.promptTokenIds)
      expect(span.attributes['llm.hosted_vllm.response_token_ids']).toEqual(sent.tokenIds)
      expect(span.status.code).toBe(SpanStatusCode.UNSET)
    })
    expect(responses.map((response) => response.id)).toEqual(
      recorder.history.map((record) => record.responseId),
    )
    expect(new Set(responses.map((response) => response.id)).size).toBe(3)
    expect(failures).toEqual([])
  })

  it('writes the records of 16 concurrent agents to one JsonlFileSink, grouped by rollout', async () => {
    const mock = await startServer({
      policy: {
        script: ({ body }) => {
          const messages = body.messages as ChatMessage[]
          const task = Number(/task (\d+)/.exec(String(messages[0]?.content))?.[1])
          const last = messages.at(-1)
          return last?.role === 'tool'
            ? `Task ${task}: the sum is ${String(last.content)}.`
            : toolCallReply(`${task}+1`)
        },
      },
      pacing: { interChunkDelayMs: 1 },
    })
    const folder = await mkdtemp(join(tmpdir(), 'vllm-tito-recorder-e2e-'))
    temporaryFolders.push(folder)
    const sink = new JsonlFileSink(join(folder, 'rollouts.jsonl'))
    const rollouts = Array.from({ length: 16 }, (_, task) => {
      const { recorder, failures } = newRecorder({ rolloutId: `rollout-${task}`, sink })
      const agent = rolloutAgent(modelFor(mock), recorder)
      return { task, recorder, failures, run: agent.invoke(`What is task ${task} plus one?`) }
    })
    await Promise.all(rollouts.map((rollout) => rollout.run))
    await Promise.all(rollouts.map((rollout) => rollout.recorder.flush()))
    await sink.close()

    const { entries, truncatedTail } = await readJsonlRecords(sink.path)
    expect(truncatedTail).toBe(false)
    expect(entries).toHaveLength(32)
    for (const { task, recorder, failures } of rollouts) {
      const own = entries.filter((entry) => entry.rolloutId === `rollout-${task}`)
      expect(own.map((entry) => entry.callIndex)).toEqual([0, 1])
      expect(own.map((entry) => entry.record)).toEqual(recorder.history)
      expect(mock.tokenizer.decode(recorder.history[1]!.tokenIds!)).toBe(
        `Task ${task}: the sum is ${task + 1}.<|im_end|>`,
      )
      expect(recorder.history.every((record) => record.verification.verified)).toBe(true)
      expect(failures).toEqual([])
    }
  })

  it('gives the same history as a plugin and through agent.stream() with recorder.handle()', async () => {
    const replies = [toolCallReply('2+2'), 'The answer is 4.']
    const pluginMock = await startServer({ policy: { script: replies } })
    const plugin = newRecorder()
    await rolloutAgent(modelFor(pluginMock), plugin.recorder).invoke('What is 2+2?')

    const streamMock = await startServer({ policy: { script: replies } })
    const streamed = newRecorder()
    const agent = rolloutAgent(modelFor(streamMock))
    for await (const event of agent.stream('What is 2+2?')) await streamed.recorder.handle(event)

    expect(plugin.recorder.history).toHaveLength(2)
    expect(streamed.recorder.history.map(withoutTiming)).toStrictEqual(
      plugin.recorder.history.map(withoutTiming),
    )
    expect(plugin.failures).toEqual([])
    expect(streamed.failures).toEqual([])
  })
})
