import { context } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { resourceFromAttributes } from '@opentelemetry/resources'
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import { TokenRecorder } from '@vllm-tito/recorder'
import { createOtelSpanWriter } from '@vllm-tito/recorder/otel'
import type { TokenRecord } from '@vllm-tito/spec'
import { makeRecord } from '@vllm-tito/spec/testing'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import {
  attributeMap,
  type DecodedSpan,
  type OtlpReceiver,
  startOtlpReceiver,
} from '../__fixtures__/otlp-receiver'
import { emitRewardSpan } from './emit-reward-span'
import { findAgentLightningAttributeProblems, UNFLATTENED_PREFIXES } from './span-contract'
import { agentLightningResourceAttributes, createStoreSpanExporter } from './store-span-exporter'

let receiver: OtlpReceiver
const providers: BasicTracerProvider[] = []

beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  receiver = await startOtlpReceiver()
})

afterEach(async () => {
  await Promise.all(providers.splice(0).map((provider) => provider.shutdown()))
  receiver.exports.length = 0
  receiver.contentTypes.length = 0
  receiver.paths.length = 0
})

afterAll(async () => {
  context.disable()
  await receiver.close()
})

// ids across Qwen3's vocabulary, including the top ids where a float or string mangling would show
const promptTokenIds = Array.from({ length: 3_000 }, (_, index) => (index * 7_919) % 151_936)
const tokenIds = [151_667, 0, 151_668, ...Array.from({ length: 996 }, (_, index) => 151_935 - index), 151_645]

function qwenRecord(overrides: Partial<TokenRecord> = {}): TokenRecord {
  return makeRecord({
    responseId: 'chatcmpl-9f8e7d',
    model: 'Qwen/Qwen3-8B',
    promptTokenIds,
    tokenIds,
    usage: { promptTokens: promptTokenIds.length, completionTokens: tokenIds.length, totalTokens: 4_000 },
    ...overrides,
  })
}

function providerExportingTo(storeUrl: string, processor: 'batch' | 'simple') {
  const exporter = createStoreSpanExporter({ storeUrl })
  const spanProcessor: SpanProcessor =
    processor === 'batch' ? new BatchSpanProcessor(exporter) : new SimpleSpanProcessor(exporter)
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      'service.name': 'ts-agent',
      ...agentLightningResourceAttributes({ rolloutId: 'ro-0d41', attemptId: 'at-1' }),
    }),
    spanProcessors: [spanProcessor],
  })
  providers.push(provider)
  return provider
}

/** Runs one rollout: a parent span, two recorded model calls (the recorder's real span writer), the reward. */
async function exportOneRollout(processor: 'batch' | 'simple', storeUrl = receiver.origin) {
  const provider = providerExportingTo(storeUrl, processor)
  const tracer = provider.getTracer('ts-agent')
  const recorder = new TokenRecorder({
    spanWriter: createOtelSpanWriter({ tracer }),
    rolloutId: 'ro-0d41',
  })
  await tracer.startActiveSpan('rollout', async (rollout) => {
    recorder.record(qwenRecord())
    recorder.record(qwenRecord({ responseId: 'chatcmpl-second', tokenIds: [9_707, 151_645] }))
    emitRewardSpan(1, { tracer })
    rollout.end()
  })
  await provider.forceFlush()
  return receiver.exports.flat()
}

function allSpans(resourceSpans: Awaited<ReturnType<typeof exportOneRollout>>): DecodedSpan[] {
  return resourceSpans.flatMap((entry) => (entry.scopeSpans ?? []).flatMap((scope) => scope.spans ?? []))
}

describe.each(['batch', 'simple'] as const)(
  'export to the store through the real OTLP protobuf exporter (%s processor)',
  (processor) => {
    test('requests go to /v1/traces as application/x-protobuf, the only format the store accepts', async () => {
      await exportOneRollout(processor)
      expect(receiver.paths.length).toBeGreaterThan(0)
      expect(new Set(receiver.paths)).toEqual(new Set(['/v1/traces']))
      expect(new Set(receiver.contentTypes)).toEqual(new Set(['application/x-protobuf']))
    })

    test('every resource carries agentlightning.rollout_id and agentlightning.attempt_id as strings', async () => {
      const resourceSpans = await exportOneRollout(processor)
      expect(resourceSpans.length).toBeGreaterThan(0)
      for (const entry of resourceSpans) {
        const attributes = attributeMap(entry.resource?.attributes)
        expect(attributes['agentlightning.rollout_id']).toBe('ro-0d41')
        expect(attributes['agentlightning.attempt_id']).toBe('at-1')
      }
    })

    test("the recorder's prompt_token_ids / response_token_ids arrive as integer arrays, value for value", async () => {
      const spans = allSpans(await exportOneRollout(processor)).filter(
        (span) => span.name === 'openai.chat.completion',
      )
      expect(spans).toHaveLength(2)
      const [first, second] = spans.map((span) => attributeMap(span.attributes))
      // every element must be an OTLP int_value: a double_value would reach the adapter as a Python float and
      // fail its "list of integers" check, leaving the triplet with [] ids
      expect(first?.prompt_token_ids).toEqual(promptTokenIds.map((id) => ({ int: id })))
      expect(first?.response_token_ids).toEqual(tokenIds.map((id) => ({ int: id })))
      expect(second?.response_token_ids).toEqual([{ int: 9_707 }, { int: 151_645 }])
      expect(first?.['llm.hosted_vllm.prompt_token_ids']).toEqual(promptTokenIds.map((id) => ({ int: id })))
      expect(first?.['llm.hosted_vllm.response_token_ids']).toEqual(tokenIds.map((id) => ({ int: id })))
      expect(first?.['gen_ai.response.id']).toBe('chatcmpl-9f8e7d')
      expect(second?.['gen_ai.response.id']).toBe('chatcmpl-second')
    })

    test('the reward span: agentlightning.annotation, status OK, reward.0 = primary / 1, after the calls', async () => {
      const spans = allSpans(await exportOneRollout(processor))
      const rewards = spans.filter((span) => span.name === 'agentlightning.annotation')
      expect(rewards).toHaveLength(1)
      expect(attributeMap(rewards[0]?.attributes)).toEqual({
        'agentlightning.reward.0.name': 'primary',
        // an integral JS number travels as int_value; the store's reward model reads it as the float 1.0
        'agentlightning.reward.0.value': { int: 1 },
      })
      expect(rewards[0]?.status?.code).toBe(1)
      const rollout = spans.find((span) => span.name === 'rollout')!
      for (const span of spans.filter((entry) => entry.name !== 'rollout')) {
        expect(span.parentSpanId).toBe(rollout.spanId)
        expect(span.traceId).toBe(rollout.traceId)
      }
    })

    test('no exported span carries a bare gen_ai.prompt / completion / request / response key (the adapter raises)', async () => {
      const spans = allSpans(await exportOneRollout(processor))
      expect(spans.map((span) => span.name).sort()).toEqual([
        'agentlightning.annotation',
        'openai.chat.completion',
        'openai.chat.completion',
        'rollout',
      ])
      for (const span of spans) {
        const keys = (span.attributes ?? []).map((entry) => entry.key)
        for (const bare of ['gen_ai.prompt', 'gen_ai.completion', 'gen_ai.request', 'gen_ai.response']) {
          expect(keys).not.toContain(bare)
        }
        for (const prefix of UNFLATTENED_PREFIXES) expect(keys).not.toContain(prefix)
      }
    })
  },
)

test('a fractional reward travels as a double; extra dimensions follow the primary one', async () => {
  const provider = providerExportingTo(receiver.origin, 'simple')
  emitRewardSpan(0.25, { tracer: provider.getTracer('t'), dimensions: { efficiency: 0.5, steps: 3 } })
  await provider.forceFlush()
  const [span] = allSpans(receiver.exports.flat())
  expect(attributeMap(span?.attributes)).toEqual({
    'agentlightning.reward.0.name': 'primary',
    'agentlightning.reward.0.value': { double: 0.25 },
    'agentlightning.reward.1.name': 'efficiency',
    'agentlightning.reward.1.value': { double: 0.5 },
    'agentlightning.reward.2.name': 'steps',
    'agentlightning.reward.2.value': { int: 3 },
  })
})

test('a store URL given as its REST root (/v1/agl) still exports to /v1/traces', async () => {
  await exportOneRollout('simple', `${receiver.origin}/v1/agl`)
  expect(new Set(receiver.paths)).toEqual(new Set(['/v1/traces']))
})

test("the recorder's span attributes pass Agent Lightning's checks (no bare prefixes, integer id arrays)", () => {
  const memory = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] })
  providers.push(provider)
  const writer = createOtelSpanWriter({ tracer: provider.getTracer('t') })
  writer.writeSpan(qwenRecord(), { callIndex: 0 })
  writer.writeSpan(qwenRecord({ kind: 'completion', responseId: null }), { callIndex: 1, rolloutId: 'r' })
  const finished = memory.getFinishedSpans()
  expect(finished).toHaveLength(2)
  for (const span of finished) expect(findAgentLightningAttributeProblems(span.attributes)).toEqual([])
})
