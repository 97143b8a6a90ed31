// Trainer rows: a GRPO group of four rollouts of one task, each captured with its exact token ids, written in
// the format each trainer takes as it is — verl AgentLoopOutputs, one SkyRL GeneratorOutput, slime Samples and
// Agent Lightning 1.0 triplets. One rollout is served with non-canonical token splits (as real models sometimes
// sample them), so its second prompt re-encodes the first reply and the rollout splits at a prefix break.
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { Agent, NullConversationManager } from '@strands-agents/sdk'
import type { MockReplyRequest } from '@vllm-tito/mock-vllm'
import { loadQwen3Tokenizer } from '@vllm-tito/mock-vllm'
import type { ChatMessage } from '@vllm-tito/spec'
import { VLLMModel, VLLMTokenRecorder } from '@vllm-tito/strands'
import {
  buildTrajectory,
  type Rollout,
  toAgentLightningTriplets,
  toJsonl,
  toSkyRLGeneratorOutput,
  toSlimeSamples,
  toVerlRows,
} from '@vllm-tito/trajectory'
import { answerText } from './shared/answer-text'
import { calculator } from './shared/calculator-tool'
import { freshOutputPath } from './shared/output-files'
import { specialTokenIdsFor } from './shared/special-token-ids'
import { connectTargetServer, runExample, type TargetServer } from './shared/target-server'

const TASK = 'What is 17 * 23? Use the calculator tool.'
// slime numbers its prompt groups and samples: integer ids work for every trainer
const TASK_ID = 0
const GROUP_SIZE = 4
const SPLIT_SAMPLE = 1

/**
 * The embedded mock's model: think, call the calculator, then answer from its result. The second answer this
 * server gives is a sampled mistake, so the group's rewards differ (GRPO learns nothing from equal rewards).
 */
function scriptedModel(): (request: MockReplyRequest) => string {
  let answers = 0
  return ({ body }) => {
    const messages = (body as { messages: ChatMessage[] }).messages
    if (messages.at(-1)?.role !== 'tool') {
      return '<think>\nThe calculator can do this.\n</think>\n\n<tool_call>\n{"name": "calculator", "arguments": {"expression": "17 * 23"}}\n</tool_call>'
    }
    answers += 1
    return `<think>\nThe tool says 391.\n</think>\n\n17 * 23 is ${answers === 2 ? 381 : 391}.`
  }
}

/** Runs one rollout with a Strands agent; the recorder keeps every call's exact ids. */
async function runRollout(server: TargetServer, sampleIndex: number): Promise<Rollout & { answer: string }> {
  const model = new VLLMModel({
    baseUrl: `${server.baseUrl}/v1`,
    modelId: server.modelId,
    returnTokenIds: true,
    params: { logprobs: true },
  })
  const rolloutId = sampleIndex
  const recorder = new VLLMTokenRecorder({ rolloutId: `trainer-rows-${rolloutId}`, addToSpan: false })
  const agent = new Agent({
    model,
    tools: [calculator],
    plugins: [recorder],
    printer: false,
    conversationManager: new NullConversationManager(),
    retryStrategy: null,
  })
  const answer = answerText(await agent.invoke(TASK))
  const tokenizer = /qwen3/i.test(server.modelId) ? await loadQwen3Tokenizer() : undefined
  const trajectory = buildTrajectory(recorder.history, {
    ...specialTokenIdsFor(server.modelId),
    ...(tokenizer ? { tokenizer } : {}),
  })
  return {
    taskId: TASK_ID,
    sampleIndex,
    rolloutId,
    trajectory,
    reward: answer.includes('391') ? 1 : 0,
    answer,
  }
}

function writeOutput(fileName: string, text: string): string {
  const path = freshOutputPath(`trainer-rows/${fileName}`)
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, text)
  return path
}

runExample(async () => {
  const server = await connectTargetServer({ policy: { script: scriptedModel() } })
  // the second embedded mock samples every word as a non-canonical split; a real server is used as it is
  const splittingServer = await connectTargetServer({
    policy: { script: scriptedModel() },
    nonCanonicalRate: 1,
  })
  try {
    console.log(`server: ${server.description}`)
    console.log(`task ${TASK_ID}: ${TASK} (a group of ${GROUP_SIZE} rollouts)`)
    const group: Rollout[] = []
    for (let sampleIndex = 0; sampleIndex < GROUP_SIZE; sampleIndex += 1) {
      const { answer, ...rollout } = await runRollout(
        sampleIndex === SPLIT_SAMPLE ? splittingServer : server,
        sampleIndex,
      )
      group.push(rollout)
      const { sequences, breaks } = rollout.trajectory
      const found = breaks.map((finding) => `${finding.kind} break at call ${finding.turnIndex}`).join(', ')
      console.log(
        `rollout ${sampleIndex}: ${answer} (reward ${rollout.reward}); ${sequences.length} sequence(s)${found ? `: ${found}` : ''}`,
      )
    }
    console.log()

    // verl runs one agent loop per sample: a split rollout gives its last sequence (the row says so)
    const verlRows = toVerlRows(group, { splitRollout: 'last-sequence' })
    const verlPath = writeOutput('verl.jsonl', toJsonl(verlRows))
    // SkyRL's step-wise mode (generator.step_wise_trajectories) takes every sequence, is_last_step on the last
    const skyrl = toSkyRLGeneratorOutput(group, { stepWise: true })
    const skyrlPath = writeOutput('skyrl.json', `${JSON.stringify(skyrl)}\n`)
    // slime: one Sample per sequence, the samples of a rollout share rollout_id and its reward
    const samples = toSlimeSamples(group)
    const slimePath = writeOutput('slime.jsonl', toJsonl(samples))
    // Agent Lightning 1.0: one triplet per model call, the reward on the rollout's last one
    const triplets = toAgentLightningTriplets(group)
    const tripletsPath = writeOutput('agent-lightning.jsonl', toJsonl(triplets))

    console.log(`verl AgentLoopOutput rows (JSONL):       ${verlPath}`)
    console.log(
      `  ${verlRows.length} rows, one per rollout; rewards ${verlRows.map((row) => row.reward_score).join(', ')}`,
    )
    console.log(`SkyRL GeneratorOutput (JSON):            ${skyrlPath}`)
    console.log(
      `  ${skyrl.response_ids.length} rows, is_last_step ${skyrl.is_last_step!.join(', ')}; rewards ${skyrl.rewards.join(', ')}`,
    )
    console.log(`slime Samples (JSONL):                   ${slimePath}`)
    console.log(
      `  ${samples.length} samples, rollout_id ${samples.map((sample) => sample.rollout_id).join(', ')}; rewards ${samples.map((sample) => sample.reward).join(', ')}`,
    )
    console.log(`Agent Lightning triplets (JSONL):        ${tripletsPath}`)
    console.log(
      `  ${triplets.length} triplets, one per call; rewards ${triplets.map((triplet) => String(triplet.reward)).join(', ')}`,
    )
  } finally {
    await server.close()
    await splittingServer.close()
  }
})
