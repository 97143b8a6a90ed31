// Agent Lightning Integration (strands-vllm's examples/agent_lightning.py): the recorder writes one OpenTelemetry
// span per model call, named `openai.chat.completion` (what Agent Lightning's span adapter matches), with the
// token ids as span attributes. A real NodeTracerProvider with an in-memory exporter stands in for Agent
// Lightning's own tracer; the span tree and the attributes are printed.
import { trace } from '@opentelemetry/api'
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node'
import { Agent, NullConversationManager } from '@strands-agents/sdk'
import { VLLMModel, VLLMTokenRecorder } from '@vllm-tito/strands'
import { answerText } from './shared/answer-text'
import { calculator } from './shared/calculator-tool'
import { abbreviateIds } from './shared/format-table'
import { connectTargetServer, runExample } from './shared/target-server'

/** The attributes the recorder writes, in the order they are printed. */
const TOKEN_ATTRIBUTES = [
  'prompt_token_ids',
  'response_token_ids',
  'llm.hosted_vllm.prompt_token_ids',
  'llm.hosted_vllm.response_token_ids',
  'llm.token_count.prompt',
  'llm.token_count.completion',
  'gen_ai.usage.input_tokens',
  'gen_ai.usage.output_tokens',
  'gen_ai.response.id',
  'gen_ai.response.finish_reasons',
  'vllm_tito.verification.status',
  'vllm_tito.rollout_id',
  'vllm_tito.call_index',
]

runExample(async () => {
  const exporter = new InMemorySpanExporter()
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  provider.register()
  const server = await connectTargetServer()
  try {
    console.log(`server: ${server.description}`)
    const model = new VLLMModel({
      baseUrl: `${server.baseUrl}/v1`,
      modelId: server.modelId,
      returnTokenIds: true,
    })
    // addToSpan defaults to true: one span per call through the global OpenTelemetry API
    const recorder = new VLLMTokenRecorder({ rolloutId: 'rollout-0' })
    const agent = new Agent({
      model,
      tools: [calculator],
      plugins: [recorder],
      printer: false,
      conversationManager: new NullConversationManager(),
    })

    // the rollout span is the parent of the recorder's spans, as Agent Lightning's own rollout span would be
    const tracer = trace.getTracer('agent-lightning-example')
    const result = await tracer.startActiveSpan('rollout', async (span) => {
      try {
        return await agent.invoke('What is 12 * 7? Use the calculator tool.')
      } finally {
        span.end()
      }
    })
    await provider.forceFlush()
    console.log(`answer: ${answerText(result)}`)

    const spans = exporter.getFinishedSpans()
    console.log()
    console.log('span tree (name, span id):')
    printTree(spans)

    const tokenSpans = spans.filter((span) => span.name === 'openai.chat.completion')
    for (const [index, span] of tokenSpans.entries()) {
      console.log()
      console.log(`span ${index + 1} of ${tokenSpans.length}: ${span.name}`)
      console.log(`  trace id: ${span.spanContext().traceId}`)
      console.log(`  span id:  ${span.spanContext().spanId}`)
      console.log(`  parent:   ${span.parentSpanContext?.spanId ?? '(none)'}`)
      for (const key of TOKEN_ATTRIBUTES) {
        const value = span.attributes[key]
        if (value === undefined) continue
        const shown =
          Array.isArray(value) && key.endsWith('token_ids')
            ? abbreviateIds(value as number[])
            : JSON.stringify(value)
        console.log(`  ${key} = ${shown}`)
      }
    }
    const exact = tokenSpans.every((span, index) => {
      const record = recorder.history[index]
      return (
        JSON.stringify(span.attributes.prompt_token_ids) === JSON.stringify(record?.promptTokenIds) &&
        JSON.stringify(span.attributes.response_token_ids) === JSON.stringify(record?.tokenIds)
      )
    })
    console.log()
    console.log(
      `spans with token ids: ${tokenSpans.length}; same ids as the recorder's history: ${exact ? 'yes' : 'no'}`,
    )
    console.log(
      'Agent Lightning reads prompt_token_ids / response_token_ids from these spans through any exporter it configures.',
    )
  } finally {
    await server.close()
    await provider.shutdown()
  }
})

function printTree(spans: readonly ReadableSpan[]): void {
  const ids = new Set(spans.map((span) => span.spanContext().spanId))
  const children = (parentId: string | undefined) =>
    spans
      .filter((span) => {
        const parent = span.parentSpanContext?.spanId
        return parentId === undefined ? parent === undefined || !ids.has(parent) : parent === parentId
      })
      .sort((left, right) => left.startTime[0] - right.startTime[0] || left.startTime[1] - right.startTime[1])
  const visit = (span: ReadableSpan, depth: number) => {
    console.log(`${'  '.repeat(depth + 1)}${span.name} (${span.spanContext().spanId})`)
    for (const child of children(span.spanContext().spanId)) visit(child, depth + 1)
  }
  for (const root of children(undefined)) visit(root, 0)
}
