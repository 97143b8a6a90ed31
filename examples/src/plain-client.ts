// Just the client, no Strands: VLLMClient runs a two-call tool loop over vLLM's chat API; each call's
// TokenRecord goes into the core recorder (history + JSONL), then the trajectory builder, then SkyRL rows.
import { writeFileSync } from 'node:fs'
import { toAssistantMessage, VLLMClient } from '@vllm-tito/client'
import { JsonlFileSink, TokenRecorder } from '@vllm-tito/recorder'
import type { ChatMessage, ChatTool } from '@vllm-tito/spec'
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
      // text, reasoning (as `reasoning` and `reasoning_content`) and tool calls with their raw arguments, so
      // the next prompt extends this prompt plus the sampled ids
      const assistant = toAssistantMessage(record)
      messages.push(assistant)
      if (record.toolCalls.length === 0) break
      for (const toolCall of assistant.tool_calls ?? []) {
        const { expression } = JSON.parse(toolCall.function.arguments) as { expression: string }
        const result = evaluateArithmetic(expression)
        console.log(`[calculator ${JSON.stringify(expression)} → ${result}]`)
        messages.push({ role: 'tool', tool_call_id: toolCall.id, content: result })
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
