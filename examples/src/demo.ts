// The main job (`pnpm demo`): a Strands agent with VLLMModel, the token recorder and the
// tool-validation hooks on a tool-using task, against a real vLLM (VLLM_BASE_URL, VLLM_MODEL_ID) or the embedded
// mock. Prints the answer, the TITO summary, a retokenization-drift check, and where the trajectory JSONL, the
// token records and the spans were written. Progress goes to stderr, results to stdout.
import { writeFileSync } from 'node:fs'
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node'
import { Agent, NullConversationManager } from '@strands-agents/sdk'
import { loadQwen3Tokenizer } from '@vllm-tito/mock-vllm'
import { JsonlFileSink } from '@vllm-tito/recorder'
import type { TextTokenizer } from '@vllm-tito/spec'
import { VLLMClient, VLLMModel, VLLMTokenRecorder, VLLMToolValidationHooks } from '@vllm-tito/strands'
import { buildTrajectory, toJsonl, toVerlRows } from '@vllm-tito/trajectory'
import { answerText } from './shared/answer-text'
import { calculator } from './shared/calculator-tool'
import { checkDrift, formatDriftSideBySide, serverTokenizer } from './shared/drift-check'
import { JsonlSpanFileProcessor } from './shared/jsonl-span-file-processor'
import { freshOutputPath } from './shared/output-files'
import { connectTargetServer, runExample } from './shared/target-server'
import { formatSequenceSummary, formatTitoTable } from './shared/tito-summary'
import { formatToolExchange, toolExchanges } from './shared/tool-exchanges'

const TASK = 'What is 17 * 23? Use the calculator tool.'
const ROLLOUT_ID = 'demo-rollout-0'

runExample(async () => {
  const startedAt = performance.now()
  const progress = (step: string) =>
    process.stderr.write(`[demo ${((performance.now() - startedAt) / 1000).toFixed(1)}s] ${step}\n`)

  progress('connecting to the server')
  // the embedded mock samples canonical splits unless told otherwise; real models sometimes do not
  const nonCanonicalRate = Number(process.env.MOCK_NON_CANONICAL_RATE ?? 0)
  const server = await connectTargetServer({ nonCanonicalRate })
  try {
    const spansPath = freshOutputPath('demo-spans.jsonl')
    const recordsPath = freshOutputPath('demo-records.jsonl')
    const trajectoryPath = freshOutputPath('demo-trajectory.jsonl')

    // a real provider (what Agent Lightning or any OTLP setup registers); the file processor stands in for
    // the exporter, and the Strands SDK's own spans (invoke_agent, chat, execute_tool) land there too
    const spanFile = new JsonlSpanFileProcessor(spansPath)
    const provider = new NodeTracerProvider({ spanProcessors: [spanFile] })
    provider.register()

    const client = new VLLMClient({ baseUrl: server.baseUrl })
    const model = new VLLMModel({ client, modelId: server.modelId, returnTokenIds: true })
    const sink = new JsonlFileSink(recordsPath)
    const recorder = new VLLMTokenRecorder({ rolloutId: ROLLOUT_ID, sink })
    const validation = new VLLMToolValidationHooks()
    // the RL rollout settings: no printing, no history trimming, no retries that would hide a failed call
    const agent = new Agent({
      model,
      tools: [calculator],
      plugins: [recorder, validation],
      printer: false,
      conversationManager: new NullConversationManager(),
      retryStrategy: null,
    })

    progress(`running the agent on ${server.description}`)
    const result = await agent.invoke(TASK)
    await recorder.flush()
    await sink.close()
    await provider.forceFlush()

    progress('building the trajectory')
    // break classification compares decoded text; the Qwen3 tokenizer ships with mock-vllm, other models'
    // breaks are reported without that comparison
    const classifier: TextTokenizer | undefined = /qwen3/i.test(server.modelId)
      ? await loadQwen3Tokenizer()
      : undefined
    const trajectory = buildTrajectory(recorder.history, classifier ? { tokenizer: classifier } : {})
    const verlRows = toVerlRows(trajectory.sequences, { inexact: 'skip', reward: null })
    writeFileSync(trajectoryPath, toJsonl(verlRows))

    console.log('vllm-tito demo: a Strands agent on vLLM with the exact token ids of every model call')
    console.log(`server: ${server.description}`)
    console.log(`task:   ${TASK}`)
    console.log(`answer: ${answerText(result)}`)
    for (const exchange of toolExchanges(agent.messages))
      console.log(`tool:   ${formatToolExchange(exchange)}`)
    const rejected = validation.totals
    console.log(`tool calls rejected by validation: ${rejected.unknown + rejected.invalid}`)
    console.log()
    console.log(
      'TITO summary: ids per model call; mask 0 = prompt and tool-result tokens, mask 1 = model output (trained on)',
    )
    console.log(formatTitoTable(recorder.history, trajectory))
    for (const line of formatSequenceSummary(trajectory)) console.log(line)
    for (const prefixBreak of trajectory.breaks) {
      console.log(
        `call ${prefixBreak.turnIndex} started a new sequence (${prefixBreak.kind} break): ${prefixBreak.detail}`,
      )
    }
    if (recorder.history.length === 0) {
      console.log('no model call was recorded: see "No token ids captured" in the README')
    }

    progress('checking retokenization drift')
    const tokenizer = serverTokenizer(client, server.modelId)
    console.log()
    console.log(
      `retokenization drift: decode each call's sampled ids and encode the text again (${tokenizer.description})`,
    )
    for (const [index, record] of recorder.history.entries()) {
      if (record.tokenIds === null) {
        console.log(`call ${index}: no ids to check (${record.verification.status})`)
        continue
      }
      const drift = await checkDrift(record.tokenIds, tokenizer)
      if (drift.driftIndex === -1) {
        console.log(
          `call ${index}: ${drift.sampledIds.length} sampled ids re-encode to the same ids: no drift`,
        )
        continue
      }
      console.log(
        `call ${index}: drift at index ${drift.driftIndex}: ${drift.sampledIds.length} sampled ids re-encode to ${drift.reencodedIds.length} different ones; a trainer that re-tokenizes would train on tokens the model never sampled`,
      )
      console.log(await formatDriftSideBySide(drift, tokenizer))
    }
    if (server.embedded && nonCanonicalRate === 0) {
      console.log(
        '(the embedded mock samples canonical splits; `MOCK_NON_CANONICAL_RATE=0.5 pnpm demo` makes it sample non-canonical ones, as real models sometimes do)',
      )
    }

    const tokenSpans = recorder.history.length
    console.log()
    console.log(`trajectory (verl rows, JSONL): ${trajectoryPath}`)
    console.log(`token records (JSONL):         ${recordsPath}`)
    console.log(
      `spans (OpenTelemetry, JSONL):  ${spansPath} (${spanFile.spanCount} spans, ${tokenSpans} with token ids)`,
    )
    await provider.shutdown()
    progress('done')
  } finally {
    await server.close()
  }
})
