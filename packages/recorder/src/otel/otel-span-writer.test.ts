import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import { InvalidOptionError, type TokenRecord } from '@vllm-tito/spec'
import { makeRecord } from '@vllm-tito/spec/testing'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import type { RecorderError } from '../recorder-error'
import { TokenRecorder } from '../token-recorder'
import { createOtelSpanWriter, DEFAULT_TOKEN_SPAN_NAME } from './otel-span-writer'
import { tokenRecordAttributes } from './token-record-attributes'

const exporter = new InMemorySpanExporter()
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
const tracer = provider.getTracer('test')

beforeAll(() => {
  // parent links need a context manager, as in any Node app with OpenTelemetry
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
})

afterEach(() => {
  exporter.reset()
})

afterAll(async () => {
  context.disable()
  trace.disable()
  await provider.shutdown()
})

const startedAt = Date.UTC(2026, 10, 27, 8, 0, 0, 250)
const timing = { startedAt, firstByteAt: startedAt + 40, endedAt: startedAt + 1_275 }

/** A realistic record: ids near the top of Qwen3's vocabulary, where float or string mangling would show. */
function qwenRecord(overrides: Partial<TokenRecord> = {}): TokenRecord {
  return makeRecord({
    responseId: 'chatcmpl-abc123',
    model: 'Qwen/Qwen3-8B',
    promptTokenIds: [151644, 872, 198, 39, 83722, 151645],
    tokenIds: [151667, 0, 151668, 9707, 151645],
    usage: { promptTokens: 6, completionTokens: 5, totalTokens: 11 },
    verification: {
      status: 'verified',
      verified: true,
      promptIdsCount: 6,
      usagePromptTokens: 6,
      completionIdsCount: 5,
      usageCompletionTokens: 5,
      issues: [],
    },
    timing,
    ...overrides,
  })
}

const milliseconds = (time: [number, number]) => time[0] * 1_000 + time[1] / 1_000_000

function finishedSpans(name = DEFAULT_TOKEN_SPAN_NAME): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((span) => span.name === name)
}

describe('dedicated span per call (default)', () => {
  test('exactly one span per call, with every attribute exact', () => {
    const recorder = new TokenRecorder({
      spanWriter: createOtelSpanWriter({ tracer }),
      rolloutId: 'rollout-5',
    })
    recorder.record(qwenRecord())
    recorder.record(qwenRecord({ responseId: 'chatcmpl-def456' }), { agentId: 'agent-5' })

    const spans = finishedSpans()
    expect(spans).toHaveLength(2)
    expect(exporter.getFinishedSpans()).toHaveLength(2)
    const [first, second] = spans
    expect(first?.attributes).toEqual({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'vllm',
      'gen_ai.request.model': 'Qwen/Qwen3-8B',
      'gen_ai.response.model': 'Qwen/Qwen3-8B',
      'gen_ai.response.id': 'chatcmpl-abc123',
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': 6,
      'gen_ai.usage.output_tokens': 5,
      'llm.token_count.prompt': 6,
      'llm.token_count.completion': 5,
      'llm.hosted_vllm.prompt_token_ids': [151644, 872, 198, 39, 83722, 151645],
      'llm.hosted_vllm.response_token_ids': [151667, 0, 151668, 9707, 151645],
      prompt_token_ids: [151644, 872, 198, 39, 83722, 151645],
      response_token_ids: [151667, 0, 151668, 9707, 151645],
      'vllm_tito.verification.status': 'verified',
      'vllm_tito.verification.verified': true,
      'vllm_tito.complete': true,
      'vllm_tito.choice_index': 0,
      'vllm_tito.rollout_id': 'rollout-5',
      'vllm_tito.call_index': 0,
    })
    expect(second?.attributes['gen_ai.response.id']).toBe('chatcmpl-def456')
    expect(second?.attributes['gen_ai.agent.id']).toBe('agent-5')
    expect(second?.attributes['vllm_tito.call_index']).toBe(1)
  })

  test('named for Agent Lightning, CLIENT kind, with the call real start and end times', () => {
    const writer = createOtelSpanWriter({ tracer })
    writer.writeSpan(qwenRecord(), { callIndex: 0 })
    const [span] = finishedSpans()
    expect(span?.name).toBe('openai.chat.completion')
    expect(span?.name).toMatch(/openai\.chat\.completion/)
    expect(span?.kind).toBe(SpanKind.CLIENT)
    expect(milliseconds(span!.startTime)).toBe(timing.startedAt)
    expect(milliseconds(span!.endTime)).toBe(timing.endedAt)
    expect(span?.status.code).toBe(SpanStatusCode.UNSET)
  })

  test('parented to the active context: the caller rollout span', async () => {
    const recorder = new TokenRecorder({ spanWriter: createOtelSpanWriter({ tracer }) })
    const rollout = tracer.startSpan('rollout')
    await context.with(trace.setSpan(context.active(), rollout), async () => {
      await new Promise((resolve) => setTimeout(resolve, 1))
      recorder.record(qwenRecord())
    })
    rollout.end()
    recorder.record(qwenRecord({ responseId: 'outside' }))
    const [inside, outside] = finishedSpans()
    expect(inside?.spanContext().traceId).toBe(rollout.spanContext().traceId)
    expect(inside?.parentSpanContext?.spanId).toBe(rollout.spanContext().spanId)
    expect(outside?.parentSpanContext).toBeUndefined()
    expect(outside?.spanContext().traceId).not.toBe(rollout.spanContext().traceId)
  })

  test('a record without ids, usage or response id leaves those keys out instead of inventing values', () => {
    const writer = createOtelSpanWriter({ tracer })
    const record = makeRecord({
      kind: 'completion',
      responseId: null,
      model: null,
      promptTokenIds: null,
      tokenIds: null,
      finishReason: null,
      usage: null,
      verification: {
        status: 'unavailable',
        verified: false,
        promptIdsCount: null,
        usagePromptTokens: null,
        completionIdsCount: null,
        usageCompletionTokens: null,
        issues: ['the server returned no token ids; send return_token_ids: true (vLLM >= 0.10.2)'],
      },
      timing,
    })
    writer.writeSpan(record, { callIndex: 3 })
    expect(finishedSpans()[0]?.attributes).toEqual({
      'gen_ai.operation.name': 'text_completion',
      'gen_ai.provider.name': 'vllm',
      'vllm_tito.verification.status': 'unavailable',
      'vllm_tito.verification.verified': false,
      'vllm_tito.verification.issues': [
        'the server returned no token ids; send return_token_ids: true (vLLM >= 0.10.2)',
      ],
      'vllm_tito.complete': true,
      'vllm_tito.choice_index': 0,
      'vllm_tito.call_index': 3,
    })
  })

  test('an interrupted call gets an ERROR status and complete = false', () => {
    const writer = createOtelSpanWriter({ tracer })
    writer.writeSpan(qwenRecord({ complete: false, finishReason: null }), { callIndex: 0 })
    const [span] = finishedSpans()
    expect(span?.status).toEqual({
      code: SpanStatusCode.ERROR,
      message: 'model call interrupted; the record is partial',
    })
    expect(span?.attributes['vllm_tito.complete']).toBe(false)
    expect(span?.attributes['gen_ai.response.finish_reasons']).toBeUndefined()
  })

  test('the size cap omits every id array of an oversized call (never a truncated one) and says why', () => {
    const writer = createOtelSpanWriter({ tracer, maxTokenIdsPerAttribute: 5 })
    writer.writeSpan(qwenRecord(), { callIndex: 0 })
    writer.writeSpan(qwenRecord({ promptTokenIds: [1, 2, 3, 4, 5] }), { callIndex: 1 })
    const [capped, fits] = finishedSpans()
    const attributes = capped!.attributes
    for (const key of [
      'prompt_token_ids',
      'response_token_ids',
      'llm.hosted_vllm.prompt_token_ids',
      'llm.hosted_vllm.response_token_ids',
    ]) {
      expect(attributes[key]).toBeUndefined()
    }
    expect(attributes['vllm_tito.token_ids.omitted']).toBe(true)
    expect(attributes['vllm_tito.token_ids.omitted_reason']).toBe(
      'prompt ids (6) exceed maxTokenIdsPerAttribute (5); read them from the record sink',
    )
    expect(attributes['llm.token_count.prompt']).toBe(6)
    expect(attributes['llm.token_count.completion']).toBe(5)
    expect(fits?.attributes.prompt_token_ids).toEqual([1, 2, 3, 4, 5])
    expect(fits?.attributes['vllm_tito.token_ids.omitted']).toBeUndefined()
  })

  test('a custom span name', () => {
    createOtelSpanWriter({ tracer, spanName: 'chat Qwen/Qwen3-8B' }).writeSpan(qwenRecord(), { callIndex: 0 })
    expect(exporter.getFinishedSpans().map((span) => span.name)).toEqual(['chat Qwen/Qwen3-8B'])
  })

  test('without a tracer option it uses the global provider, and does nothing when none is registered', () => {
    const writer = createOtelSpanWriter()
    const errors: RecorderError[] = []
    const recorder = new TokenRecorder({ spanWriter: writer, onError: (error) => errors.push(error) })
    recorder.record(qwenRecord())
    expect(exporter.getFinishedSpans()).toEqual([])
    expect(errors).toEqual([])

    trace.setGlobalTracerProvider(provider)
    try {
      recorder.record(qwenRecord({ responseId: 'with-global-provider' }))
    } finally {
      trace.disable()
    }
    const [span] = finishedSpans()
    expect(span?.attributes['gen_ai.response.id']).toBe('with-global-provider')
    expect(span?.instrumentationScope.name).toBe('@vllm-tito/recorder')
  })
})

describe("mode 'current' (what strands-vllm does)", () => {
  test('annotates the active span and creates none', () => {
    const recorder = new TokenRecorder({ spanWriter: createOtelSpanWriter({ mode: 'current' }) })
    tracer.startActiveSpan('rollout', (rollout) => {
      recorder.record(qwenRecord())
      rollout.end()
    })
    const spans = exporter.getFinishedSpans()
    expect(spans.map((span) => span.name)).toEqual(['rollout'])
    expect(spans[0]?.attributes).toEqual(tokenRecordAttributes(qwenRecord(), { callIndex: 0 }))
    expect(spans[0]?.attributes.response_token_ids).toEqual([151667, 0, 151668, 9707, 151645])
  })

  test('writes nothing, and fails nothing, when no span is active', () => {
    const errors: RecorderError[] = []
    const recorder = new TokenRecorder({
      spanWriter: createOtelSpanWriter({ mode: 'current' }),
      onError: (error) => errors.push(error),
    })
    recorder.record(qwenRecord())
    expect(exporter.getFinishedSpans()).toEqual([])
    expect(errors).toEqual([])
    expect(recorder.history).toHaveLength(1)
  })
})

describe('OTLP JSON serialisation', () => {
  test('id arrays arrive as integer arrays, value for value', () => {
    const promptTokenIds = Array.from({ length: 2_000 }, (_, index) => (index * 7_919) % 151_936)
    const tokenIds = [...Array.from({ length: 999 }, (_, index) => 151_935 - index), 151_645]
    const writer = createOtelSpanWriter({ tracer })
    writer.writeSpan(
      qwenRecord({
        promptTokenIds,
        tokenIds,
        usage: { promptTokens: 2_000, completionTokens: 1_000, totalTokens: 3_000 },
      }),
      { callIndex: 0 },
    )
    const payload = JSON.parse(
      new TextDecoder().decode(JsonTraceSerializer.serializeRequest(finishedSpans())),
    )
    const [span] = payload.resourceSpans[0].scopeSpans[0].spans
    const attribute = (key: string) =>
      span.attributes.find((entry: { key: string }) => entry.key === key)?.value as {
        arrayValue?: { values: Array<Record<string, unknown>> }
        intValue?: unknown
      }
    const integers = (key: string) =>
      attribute(key).arrayValue!.values.map((value) => {
        // every element must be an OTLP intValue (a double would mean the ids lost their integer type)
        expect(Object.keys(value)).toEqual(['intValue'])
        return Number(value.intValue)
      })
    expect(span.name).toBe('openai.chat.completion')
    expect(integers('prompt_token_ids')).toEqual(promptTokenIds)
    expect(integers('llm.hosted_vllm.prompt_token_ids')).toEqual(promptTokenIds)
    expect(integers('response_token_ids')).toEqual(tokenIds)
    expect(integers('llm.hosted_vllm.response_token_ids')).toEqual(tokenIds)
    expect(Number(attribute('llm.token_count.prompt').intValue)).toBe(2_000)
    expect(Number(attribute('gen_ai.usage.output_tokens').intValue)).toBe(1_000)
  })
})

describe('options', () => {
  test.each([
    [{ mode: 'chat' }, "option `mode` must be one of 'dedicated', 'current', got the string \"chat\""],
    [{ spanName: '' }, 'option `spanName` must be a string, got the string ""'],
    [{ maxTokenIdsPerAttribute: -1 }, 'option `maxTokenIdsPerAttribute` must be an integer >= 0, got -1'],
    [{ maxTokenIdsPerAttribute: 2.5 }, 'option `maxTokenIdsPerAttribute` must be an integer >= 0, got 2.5'],
    [
      { spanname: 'x' },
      'unknown option `spanname` (did you mean `spanName`?); known options: mode, spanName, tracer, maxTokenIdsPerAttribute',
    ],
    [{ tracer: {} }, 'option `tracer` must be an OpenTelemetry Tracer (with startSpan), got an object'],
  ])('%j is refused with an InvalidOptionError naming the option', (options, message) => {
    expect(() => createOtelSpanWriter(options as never)).toThrow(`createOtelSpanWriter: ${message}`)
    expect(() => createOtelSpanWriter(options as never)).toThrow(InvalidOptionError)
  })

  test('tokenRecordAttributes checks its options too', () => {
    expect(() => tokenRecordAttributes(makeRecord(), {}, { maxTokenIdsPerAttribute: -2 })).toThrow(
      'tokenRecordAttributes: option `maxTokenIdsPerAttribute` must be an integer >= 0, got -2',
    )
    expect(() => tokenRecordAttributes(makeRecord(), {}, { maxTokenIds: 2 } as never)).toThrow(
      InvalidOptionError,
    )
  })
})
