// Token-in mode next to chat mode: the same conversation (two user turns, thinking on, a calculator call in
// each) through VLLMModel twice. Chat mode lets the server re-render the history every call, and the Qwen3
// template drops the earlier turn's reasoning at the second question, so the rollout falls apart into several
// training sequences. Token-in mode keeps the exact ids and appends only the template's tokens for each new
// message: one sequence. It prints both side by side, the boundary of every appended delta, and writes the
// token-in rollout's records to examples/out/token-in-records.jsonl.
import { Agent, NullConversationManager } from '@strands-agents/sdk'
import { VLLMClient } from '@vllm-tito/client'
import { JsonlFileSink } from '@vllm-tito/recorder'
import type { TokenRecord } from '@vllm-tito/spec'
import { VLLMModel, VLLMTokenRecorder, VLLMToolValidationHooks } from '@vllm-tito/strands'
import { buildTrajectory, type Trajectory } from '@vllm-tito/trajectory'
import { answerText } from './shared/answer-text'
import { calculator } from './shared/calculator-tool'
import { formatTable } from './shared/format-table'
import { freshOutputPath } from './shared/output-files'
import { specialTokenIdsFor } from './shared/special-token-ids'
import { connectTargetServer, runExample, type TargetServer } from './shared/target-server'

const QUESTIONS = ['What is 12 * 7?', 'And what is 17 * 23?']

/** Runs the conversation with one model in one mode; returns the answers and the recorded calls. */
async function runConversation(
  server: TargetServer,
  tokenIn: boolean,
  sink: JsonlFileSink | undefined,
): Promise<{ answers: string[]; records: TokenRecord[] }> {
  const model = new VLLMModel({
    baseUrl: server.baseUrl,
    modelId: server.modelId,
    returnTokenIds: true,
    tokenIn,
  })
  const recorder = new VLLMTokenRecorder({
    rolloutId: tokenIn ? 'token-in' : 'chat',
    addToSpan: false,
    ...(sink && { sink }),
  })
  const agent = new Agent({
    model,
    tools: [calculator],
    plugins: [recorder, new VLLMToolValidationHooks()],
    printer: false,
    conversationManager: new NullConversationManager(),
    retryStrategy: null,
  })
  const answers: string[] = []
  for (const question of QUESTIONS) answers.push(answerText(await agent.invoke(question)))
  await recorder.flush()
  return { answers, records: [...recorder.history] }
}

function summaryRow(mode: string, records: readonly TokenRecord[], trajectory: Trajectory) {
  const breaks = trajectory.breaks.map((finding) => finding.kind)
  const trained = trajectory.sequences.reduce(
    (sum, sequence) => sum + sequence.lossMask.filter((mask) => mask === 1).length,
    0,
  )
  const verified = records.filter((record) => record.verification.verified).length
  return [
    mode,
    records.length,
    trajectory.metrics.sequences,
    breaks.length === 0 ? 'none' : breaks.join(', '),
    trained,
    trajectory.metrics.tokensInSequences,
    `${verified}/${records.length}`,
  ]
}

runExample(async () => {
  const server = await connectTargetServer()
  try {
    console.log(`server: ${server.description}`)
    console.log(
      `conversation: ${QUESTIONS.map((question) => JSON.stringify(question)).join(' then ')} (calculator tool)`,
    )
    const recordsPath = freshOutputPath('token-in-records.jsonl')
    const sink = new JsonlFileSink(recordsPath)
    const chat = await runConversation(server, false, undefined)
    const tokenIn = await runConversation(server, true, sink)
    await sink.close()
    console.log(`chat answers:     ${chat.answers.map((answer) => JSON.stringify(answer)).join(', ')}`)
    console.log(`token-in answers: ${tokenIn.answers.map((answer) => JSON.stringify(answer)).join(', ')}`)

    const options = specialTokenIdsFor(server.modelId)
    const chatTrajectory = buildTrajectory(chat.records, options)
    const tokenInTrajectory = buildTrajectory(tokenIn.records, options)
    console.log()
    console.log(
      formatTable(
        ['mode', 'calls', 'sequences', 'breaks', 'tokens trained on', 'tokens in sequences', 'ids verified'],
        [
          summaryRow('chat', chat.records, chatTrajectory),
          summaryRow('token-in', tokenIn.records, tokenInTrajectory),
        ],
      ),
    )

    console.log()
    console.log('token-in calls (each appended delta, decoded):')
    const client = new VLLMClient({ baseUrl: server.baseUrl })
    for (const [call, record] of tokenIn.records.entries()) {
      const info = record.tokenIn
      const prompt = record.promptTokenIds ?? []
      if (info === undefined || info.mode === 'rendered') {
        console.log(
          `  call ${call}: rendered by the chat template (${info?.renderReason}), ${prompt.length} prompt ids`,
        )
        continue
      }
      console.log(
        `  call ${call}: the previous ${info.keptLength} ids kept, ${prompt.length - info.keptLength} appended:`,
      )
      for (const segment of info.segments) {
        const roles = segment.roles.length > 0 ? ` (${segment.roles.join(', ')})` : ''
        const text = await client.detokenize(prompt.slice(segment.start, segment.end), {
          model: server.modelId,
        })
        console.log(`    ${segment.kind}${roles}: ${JSON.stringify(text)}`)
      }
    }
    const [sequence] = tokenInTrajectory.sequences
    const last = tokenIn.records.at(-1)
    const whole =
      tokenInTrajectory.sequences.length === 1 &&
      last?.promptTokenIds != null &&
      last.tokenIds != null &&
      JSON.stringify(sequence?.tokenIds) === JSON.stringify([...last.promptTokenIds, ...last.tokenIds])
    console.log()
    console.log(`token-in sequence = the last call's prompt + response ids: ${whole ? 'yes' : 'no'}`)
    console.log(`token-in records (JSONL, one line per call): ${recordsPath}`)
  } finally {
    await server.close()
  }
})
