import { context, propagation, type Span, trace } from '@opentelemetry/api'
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer'
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { makeAgent, ScriptedModel, twoTurnScript } from './test-support'
import { VLLMTokenRecorder } from './vllm-token-recorder'

// the set-up of a real Node app: a registered NodeTracerProvider with AsyncLocalStorage context
const exporter = new InMemorySpanExporter()
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
const tracer = trace.getTracer('rollout-runner')

beforeAll(() => {
  provider.register()
})

afterEach(() => {
  exporter.reset()
})

afterAll(async () => {
  await provider.shutdown()
  trace.disable()
  context.disable()
  propagation.disable()
})

const milliseconds = (time: [number, number]) => time[0] * 1_000 + time[1] / 1_000_000

/** Runs `work` inside an active span named `name`, as a rollout runner would. */
function inRolloutSpan(name: string, work: () => Promise<unknown>): Promise<Span> {
  return tracer.startActiveSpan(name, async (span) => {
    try {
      await work()
    } finally {
      span.end()
    }
    return span
  })
}

describe('Strands agents with the default span writer and a NodeTracerProvider', () => {
  test('32 concurrent agents: one span per call, under its own rollout span, with its own ids', async () => {
    const rollouts = Array.from({ length: 32 }, (_, index) => index)
    const scripts = rollouts.map((rollout) => twoTurnScript(rollout, (rollout * 5) % 11))
    const rolloutSpans = await Promise.all(
      rollouts.map((rollout) => {
        const recorder = new VLLMTokenRecorder({ rolloutId: `rollout-${rollout}` })
        const agent = makeAgent(new ScriptedModel(scripts[rollout]!), [recorder], `agent-${rollout}`)
        return inRolloutSpan(`rollout-${rollout}`, () => agent.invoke(`add ${rollout} and 1`))
      }),
    )

    const finished = exporter.getFinishedSpans()
    const callSpans = finished.filter((span) => span.name === 'openai.chat.completion')
    const sdkChatSpans = finished.filter((span) => span.name === 'chat')
    expect(callSpans).toHaveLength(64)
    expect(sdkChatSpans).toHaveLength(64)

    for (const rollout of rollouts) {
      const rolloutSpan = rolloutSpans[rollout]!.spanContext()
      const children = callSpans.filter((span) => span.parentSpanContext?.spanId === rolloutSpan.spanId)
      const records = scripts[rollout]!.map((turn) => turn.record!)
      expect(children.map((span) => span.attributes['gen_ai.response.id'])).toEqual([
        `chatcmpl-r${rollout}-t0`,
        `chatcmpl-r${rollout}-t1`,
      ])
      children.forEach((span, turn) => {
        const record = records[turn]!
        expect(span.spanContext().traceId).toBe(rolloutSpan.traceId)
        expect(span.attributes.prompt_token_ids).toEqual(record.promptTokenIds)
        expect(span.attributes.response_token_ids).toEqual(record.tokenIds)
        expect(span.attributes['llm.hosted_vllm.prompt_token_ids']).toEqual(record.promptTokenIds)
        expect(span.attributes['llm.hosted_vllm.response_token_ids']).toEqual(record.tokenIds)
        expect(span.attributes['vllm_tito.rollout_id']).toBe(`rollout-${rollout}`)
        expect(span.attributes['vllm_tito.call_index']).toBe(turn)
        expect(span.attributes['gen_ai.agent.id']).toBe(`agent-${rollout}`)
        expect(milliseconds(span.startTime)).toBe(record.timing.startedAt)
        expect(milliseconds(span.endTime)).toBe(record.timing.endedAt)
      })
    }

    // and the ids survive OTLP JSON serialisation of the whole batch
    const payload = JSON.parse(new TextDecoder().decode(JsonTraceSerializer.serializeRequest(callSpans)))
    const exported = payload.resourceSpans.flatMap((resource: { scopeSpans: Array<{ spans: unknown[] }> }) =>
      resource.scopeSpans.flatMap((scope) => scope.spans),
    ) as Array<{ attributes: Array<{ key: string; value: Record<string, unknown> }> }>
    expect(exported).toHaveLength(64)
    for (const span of exported) {
      const value = (key: string) => span.attributes.find((attribute) => attribute.key === key)?.value
      const responseId = value('gen_ai.response.id')?.stringValue as string
      const [, rollout, turn] = /^chatcmpl-r(\d+)-t(\d+)$/.exec(responseId)!.map(Number)
      const record = scripts[rollout!]![turn!]!.record!
      const ids = (key: string) =>
        (value(key)!.arrayValue as { values: Array<{ intValue: unknown }> }).values.map((entry) =>
          Number(entry.intValue),
        )
      expect(ids('prompt_token_ids')).toEqual(record.promptTokenIds)
      expect(ids('response_token_ids')).toEqual(record.tokenIds)
    }
  })

  test('no dedicated span is parented to the SDK chat span (it is never active)', async () => {
    const recorder = new VLLMTokenRecorder()
    const agent = makeAgent(new ScriptedModel(twoTurnScript(1)), [recorder])
    await inRolloutSpan('rollout', () => agent.invoke('add 1 and 1'))
    const finished = exporter.getFinishedSpans()
    const chatSpanIds = new Set(
      finished.filter((span) => span.name === 'chat').map((span) => span.spanContext().spanId),
    )
    const callSpans = finished.filter((span) => span.name === 'openai.chat.completion')
    const rolloutSpan = finished.find((span) => span.name === 'rollout') as ReadableSpan
    expect(callSpans).toHaveLength(2)
    for (const span of callSpans) {
      expect(chatSpanIds.has(span.parentSpanContext!.spanId)).toBe(false)
      expect(span.parentSpanContext?.spanId).toBe(rolloutSpan.spanContext().spanId)
    }
  })

  test("mode 'current' annotates the rollout span; the last call's ids win there (strands-vllm's limitation)", async () => {
    const recorder = new VLLMTokenRecorder({ otel: { mode: 'current' } })
    const script = twoTurnScript(9)
    const agent = makeAgent(new ScriptedModel(script), [recorder])
    await inRolloutSpan('rollout', () => agent.invoke('add 9 and 1'))
    const finished = exporter.getFinishedSpans()
    expect(finished.filter((span) => span.name === 'openai.chat.completion')).toEqual([])
    const rolloutSpan = finished.find((span) => span.name === 'rollout')
    expect(rolloutSpan?.attributes.response_token_ids).toEqual(script[1]?.record?.tokenIds)
    expect(rolloutSpan?.attributes['gen_ai.response.id']).toBe('chatcmpl-r9-t1')
  })
})
