// Tool Call Validation (the section of strands-vllm's README): VLLMToolValidationHooks answers a call to an unknown tool,
// or a call with bad arguments, with a deterministic error text the model sees as the tool result, instead of
// running the tool or crashing the rollout. The embedded mock is scripted to make those mistakes; a real model
// may or may not make them.
import { Agent, NullConversationManager } from '@strands-agents/sdk'
import type { MockReplyRequest } from '@vllm-tito/mock-vllm'
import { VLLMModel, VLLMTokenRecorder, VLLMToolValidationHooks } from '@vllm-tito/strands'
import { answerText } from './shared/answer-text'
import { calculator } from './shared/calculator-tool'
import { connectTargetServer, runExample } from './shared/target-server'
import { formatToolExchange, toolExchanges } from './shared/tool-exchanges'

const TASK = 'Compute 17 * 19 using the calculator tool.'

/** A hermes tool call as Qwen3 writes it. */
function toolCall(name: string, argumentsObject: Record<string, unknown>): string {
  return `<tool_call>\n{"name": "${name}", "arguments": ${JSON.stringify(argumentsObject)}}\n</tool_call>`
}

/** The final answer, read from the last tool result the model received. */
function answerFromToolResult({ body }: MockReplyRequest): string {
  const messages = body.messages as Array<{ role: string; content: unknown }>
  const lastTool = messages.findLast((message) => message.role === 'tool')
  return `17 * 19 = ${typeof lastTool?.content === 'string' ? lastTool.content.trim() : '?'}.`
}

runExample(async () => {
  const server = await connectTargetServer({
    policy: {
      script: [
        toolCall('fake_tool', { query: '17 * 19' }),
        toolCall('calculator', { expression: '17 * 19', invalid_param: 1 }),
        toolCall('calculator', { expression: '17 * 19' }),
        answerFromToolResult,
      ],
    },
  })
  try {
    console.log(`server: ${server.description}`)
    const model = new VLLMModel({
      baseUrl: `${server.baseUrl}/v1`,
      modelId: server.modelId,
      returnTokenIds: true,
    })
    const validation = new VLLMToolValidationHooks()
    const recorder = new VLLMTokenRecorder({ addToSpan: false })
    const agent = new Agent({
      model,
      tools: [calculator],
      plugins: [validation, recorder],
      printer: false,
      conversationManager: new NullConversationManager(),
    })

    const result = await agent.invoke(TASK)
    console.log(`task: ${TASK}`)
    console.log('tool calls and the results the model received:')
    const exchanges = toolExchanges(agent.messages)
    for (const exchange of exchanges) console.log(`  ${formatToolExchange(exchange)}`)
    if (!exchanges.some((exchange) => exchange.status === 'error')) {
      console.log('  (the model made no invalid call this time; against the embedded mock it is scripted to)')
    }
    console.log(`answer: ${answerText(result)}`)
    for (const [toolName, counts] of validation.counts) {
      const kinds = Object.entries(counts.byKind)
        .filter(([, count]) => count > 0)
        .map(([kind, count]) => `${kind}=${count}`)
      console.log(
        `rejected calls naming ${toolName}: unknown=${counts.unknown} invalid=${counts.invalid} (${kinds.join(', ')})`,
      )
    }
    const verified = recorder.history.filter((record) => record.verification.verified).length
    console.log(`model calls: ${recorder.history.length}, with verified token ids: ${verified}`)
  } finally {
    await server.close()
  }
})
