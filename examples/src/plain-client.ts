// Just the client, no Strands: VLLMClient runs a two-call tool loop over vLLM's chat API; each call's
// TokenRecord goes into the core recorder (history + JSONL), then the trajectory builder, then SkyRL rows.
import { writeFileSync } from 'node:fs'
import { VLLMClient } from '@vllm-tito/client'
import { JsonlFileSink, TokenRecorder } from '@vllm-tito/recorder'
import type { ChatMessage, ChatTool, TokenRecord } from '@vllm-tito/spec'
import { buildTrajectory, toSkyRLGeneratorOutput } from '@vllm-tito/trajectory'
import { evaluateArithmetic } from './shared/calculator-tool'
import { freshOutputPath } from './shared/output-files'
import { specialTokenIdsFor } from './shared/special-token-ids'
import { connectTargetServer, runExample } from './shared/target-server'
import { formatSequenceSummary, formatTitoTable } from './shared/tito-summary'

const CALCULATOR: ChatTool = {
  type: 'function',
  function: {
    name: 'calculator',
    description: 'Evaluate an arithmetic expression, e.g. "17 * 23".',
    parameters: {
      type: 'object',
      properties: { expression: { type: 'string', description: 'The arithmetic expression to evaluate.' } },
      required: ['expression'],
      additionalProperties: false,
    },
  },
}

/**
 * The assistant message that renders back to exactly what the model produced: text and reasoning as the
 * server's parsers returned them, tool-call arguments as the raw string (never re-serialised). Hermes-style
 * templates (Qwen2.5, Qwen3) write the newlines after `</think>` and before `<tool_call>` themselves, so those
 * copies are dropped from the text (as VLLMModel does), or they would be rendered twice.
 */
function assistantMessage(record: TokenRecord): ChatMessage {
  let text = record.reasoning !== null ? record.text.replace(/^\n+/, '') : record.text
  if (record.toolCalls.length > 0 && text.endsWith('\n')) text = text.slice(0, -1)
  return {
    role: 'assistant',
    content: text,
    ...(record.reasoning !== null && { reasoning_content: record.reasoning }),
    ...(record.toolCalls.length > 0 && {
      tool_calls: record.toolCalls.map((call, index) => ({
        id: call.id ?? `call-${index}`,
        type: 'function' as const,
        function: { name: call.name, arguments: call.arguments },
      })),
    }),
  }
}

runExample(async () => {
  const server = await connectTargetServer()
  try {
    console.log(`server: ${server.description}`)
    const recordsPath = freshOutputPath('plain-client-records.jsonl')
    const outputPath = freshOutputPath('plain-client-skyrl.json')
    const client = new VLLMClient({ baseUrl: server.baseUrl })
    const sink = new JsonlFileSink(recordsPath)
    const recorder = new TokenRecorder({ rolloutId: 'plain-client-0', sink })

    const messages: ChatMessage[] = [{ role: 'user', content: 'What is 21 * 2? Use the calculator tool.' }]
    for (let call = 0; call < 4; call += 1) {
      const stream = client.chat.stream({
        model: server.modelId,
        messages,
        tools: [CALCULATOR],
        logprobs: true,
      })
      // events arrive as the server streams them (text, reasoning, tool-call and token deltas)
      let streamedText = ''
      for await (const event of stream) {
        if (event.type === 'text-delta') streamedText += event.text
      }
      const [record] = await stream.final()
      if (streamedText.trim() !== '') console.log(`model: ${streamedText.trim()}`)
      if (!record) throw new Error('the server returned no choice')
      recorder.record(record)
      messages.push(assistantMessage(record))
      if (record.toolCalls.length === 0) break
      for (const toolCall of record.toolCalls) {
        const { expression } = JSON.parse(toolCall.arguments) as { expression: string }
        const result = evaluateArithmetic(expression)
        console.log(`[calculator ${JSON.stringify(expression)} → ${result}]`)
        messages.push({ role: 'tool', tool_call_id: toolCall.id ?? '', content: result })
      }
    }
    await sink.close()
    console.log()

    const trajectory = buildTrajectory(recorder.history, specialTokenIdsFor(server.modelId))
    console.log(formatTitoTable(recorder.history, trajectory))
    for (const line of formatSequenceSummary(trajectory)) console.log(line)
    for (const prefixBreak of trajectory.breaks)
      console.log(`call ${prefixBreak.turnIndex}: ${prefixBreak.kind} break: ${prefixBreak.detail}`)
    // SkyRL takes one GeneratorOutput of columns per batch; step-wise mode keeps a split rollout's sequences
    const rollout = {
      taskId: 'calculator-21x2',
      sampleIndex: 0,
      rolloutId: 'plain-client-0',
      trajectory,
      reward: 1,
    }
    const output = toSkyRLGeneratorOutput([rollout], { stepWise: true })
    writeFileSync(outputPath, `${JSON.stringify(output)}\n`)
    console.log(`token records (JSONL): ${recordsPath}`)
    console.log(`SkyRL GeneratorOutput: ${outputPath}`)
  } finally {
    await server.close()
  }
})
