// RL Training with TokenManager (the section of strands-vllm's README): one rollout of a tool-using agent, then the
// recorder's history → the trajectory builder (prefix check, loss masks, logprobs) → trainer rows as JSONL.
// strands-vllm appended every turn's full prompt to a TokenManager, repeating the history; the builder appends only
// what each prompt adds, and checks that it really extends what came before.
import { writeFileSync } from 'node:fs'
import { Agent, NullConversationManager } from '@strands-agents/sdk'
import { loadQwen3Tokenizer } from '@vllm-tito/mock-vllm'
import { JsonlFileSink } from '@vllm-tito/recorder'
import { TokenManager, VLLMModel, VLLMTokenRecorder, VLLMToolValidationHooks } from '@vllm-tito/strands'
import { TrajectoryBuilder, toAgentLightningTriplets, toJsonl, toVerlRows } from '@vllm-tito/trajectory'
import { answerText } from './shared/answer-text'
import { calculator } from './shared/calculator-tool'
import { freshOutputPath } from './shared/output-files'
import { specialTokenIdsFor } from './shared/special-token-ids'
import { connectTargetServer, runExample } from './shared/target-server'
import { formatSequenceSummary, formatTitoTable } from './shared/tito-summary'

const ROLLOUT_ID = 'rl-rollout-0'
const TASK = 'What is 128 + 256? Use the calculator tool.'

runExample(async () => {
  const server = await connectTargetServer()
  try {
    console.log(`server: ${server.description}`)
    const recordsPath = freshOutputPath('rl-rollout-records.jsonl')
    const verlPath = freshOutputPath('rl-rollout-verl.jsonl')
    const tripletsPath = freshOutputPath('rl-rollout-agent-lightning.jsonl')

    // logprobs: true, so the rows carry the sampling logprobs importance ratios need
    const model = new VLLMModel({
      baseUrl: `${server.baseUrl}/v1`,
      modelId: server.modelId,
      returnTokenIds: true,
      params: { logprobs: true },
    })
    const sink = new JsonlFileSink(recordsPath)
    const recorder = new VLLMTokenRecorder({ rolloutId: ROLLOUT_ID, sink, addToSpan: false })
    const agent = new Agent({
      model,
      tools: [calculator],
      plugins: [recorder, new VLLMToolValidationHooks()],
      printer: false,
      conversationManager: new NullConversationManager(),
      retryStrategy: null,
    })
    const result = await agent.invoke(TASK)
    await sink.close()
    const answer = answerText(result)
    const reward = answer.includes('384') ? 1 : 0
    console.log(`task: ${TASK}`)
    console.log(`answer: ${answer} (reward ${reward})`)

    // the builder: prefix check between turns, loss mask 0 on prompt/tool tokens and 1 on model output
    const classifier = /qwen3/i.test(server.modelId) ? await loadQwen3Tokenizer() : undefined
    const builder = new TrajectoryBuilder({
      ...specialTokenIdsFor(server.modelId),
      ...(classifier ? { tokenizer: classifier } : {}),
    })
    for (const record of recorder.history) {
      const outcome = builder.add(record)
      console.log(
        `call ${outcome.turnIndex}: ${outcome.action}${outcome.break ? ` (${outcome.break.kind} break)` : ''}`,
      )
    }
    const trajectory = builder.build()
    console.log()
    console.log(formatTitoTable(recorder.history, trajectory))
    for (const line of formatSequenceSummary(trajectory)) console.log(line)
    const { metrics } = trajectory
    console.log(
      `history not repeated: ${metrics.tokensSaved} tokens (${metrics.tokensInPerTurnRows} in one row per call, ${metrics.tokensInSequences} merged)`,
    )

    // the same sequence with TokenManager by hand: the first prompt whole, then only what each prompt adds
    const manager = new TokenManager()
    let contextLength = 0
    for (const record of recorder.history) {
      if (record.promptTokenIds === null || record.tokenIds === null) continue
      manager.addPrompt(record.promptTokenIds.slice(contextLength))
      manager.addResponse(record.tokenIds, record.logprobs)
      contextLength = record.promptTokenIds.length + record.tokenIds.length
    }
    const firstSequence = trajectory.sequences[0]
    const same =
      trajectory.sequences.length === 1 &&
      JSON.stringify(manager.tokenIds) === JSON.stringify(firstSequence?.tokenIds) &&
      JSON.stringify(manager.lossMask) === JSON.stringify(firstSequence?.lossMask)
    console.log(
      `TokenManager by hand: ${manager.length} tokens, ${manager.outputLength} with loss mask 1; same as the builder: ${same ? 'yes' : 'no'}`,
    )

    // the rollout with the ids trainers group by (here one task, one sample), then one row per trainer
    const rollout = {
      taskId: 'calculator-128-256',
      sampleIndex: 0,
      rolloutId: ROLLOUT_ID,
      trajectory,
      reward,
    }
    const verlRows = toVerlRows([rollout], { splitRollout: 'last-sequence' })
    writeFileSync(verlPath, toJsonl(verlRows))
    const triplets = toAgentLightningTriplets([rollout])
    writeFileSync(tripletsPath, toJsonl(triplets))
    const firstRow = verlRows[0]
    if (firstRow) {
      const trained = firstRow.response_mask.filter((mask) => mask === 1).length
      console.log(
        `verl row 0: prompt_ids ${firstRow.prompt_ids.length}, response_ids ${firstRow.response_ids.length} (response_mask: ${trained} × 1, ${firstRow.response_mask.length - trained} × 0), response_logprobs ${firstRow.response_logprobs ? 'complete' : 'missing'}, reward_score ${firstRow.reward_score}`,
      )
    }
    console.log()
    console.log(`token records (JSONL, one line per call): ${recordsPath}`)
    console.log(`verl rows (JSONL):                        ${verlPath}`)
    console.log(`Agent Lightning triplets (JSONL):         ${tripletsPath}`)
  } finally {
    await server.close()
  }
})
