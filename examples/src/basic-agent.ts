// Basic Agent (the first example of strands-vllm's README): a Strands agent on vLLM with the token recorder as a plugin;
// prints the answer and the prompt and response token counts of the model call.
import { Agent, NullConversationManager } from '@strands-agents/sdk'
import { extractTokenRecord, VLLMModel, VLLMTokenRecorder } from '@vllm-tito/strands'
import { answerText } from './shared/answer-text'
import { abbreviateIds } from './shared/format-table'
import { connectTargetServer, runExample } from './shared/target-server'

runExample(async () => {
  const server = await connectTargetServer()
  try {
    console.log(`server: ${server.description}`)
    const model = new VLLMModel({
      baseUrl: `${server.baseUrl}/v1`,
      modelId: server.modelId,
      returnTokenIds: true,
    })
    // spans are the subject of agent-lightning-spans.ts; here only the ids matter
    const recorder = new VLLMTokenRecorder({ addToSpan: false })
    const agent = new Agent({
      model,
      plugins: [recorder],
      printer: false,
      conversationManager: new NullConversationManager(),
    })

    const result = await agent.invoke('Say hello')
    console.log(`answer: ${answerText(result)}`)
    console.log(`prompt tokens: ${recorder.promptTokenIds?.length ?? 0}`)
    console.log(`response tokens: ${recorder.tokenIds?.length ?? 0}`)
    console.log(`prompt token ids: ${abbreviateIds(recorder.promptTokenIds ?? [])}`)
    console.log(`response token ids: ${abbreviateIds(recorder.tokenIds ?? [])}`)

    // the same record travels on the message itself, so it survives into agent.messages and saved sessions
    const record = extractTokenRecord(result.lastMessage.metadata?.custom?.vllm)
    console.log(
      `record on the message: ${record ? 'yes' : 'no'}; verified against usage: ${record?.verification.verified ? 'yes' : `no (${record?.verification.status ?? 'no record'})`}`,
    )
    for (const issue of record?.verification.issues ?? []) console.log(`  ${issue}`)
  } finally {
    await server.close()
  }
})
