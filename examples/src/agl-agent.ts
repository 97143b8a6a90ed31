// The TypeScript agent Agent Lightning 1.0 runs once per rollout: `pnpm agl-agent` at the repository root,
// started by examples/agent-lightning/ts_agent.py (local mode) or as the container command of
// examples/agent-lightning/Dockerfile (Kubernetes mode), or by hand with the three AGL_* variables set.
// It reads the rollout from AGL_OPENAI_BASE_URL, AGL_EVENT_URL and AGL_KEY and the task from QUESTION and
// ANSWER, runs a Strands agent with a calculator through the gateway (without streaming: the gateway refuses
// streams; it records every call's response, token ids included, as a training event), posts the reward, and
// exits 0 only when the rollout ran and the reward was posted: 1 when the rollout or the reward post failed,
// 2 when the environment is incomplete. VLLM_TITO_RECORDS names a JSONL file for the client's own records.
import { resolve } from 'node:path'
import { Agent, MaxTokensError, NullConversationManager } from '@strands-agents/sdk'
import {
  AgentLightningEnvironmentError,
  type AgentLightningRollout,
  agentLightningFromEnv,
} from '@vllm-tito/agent-lightning'
import { JsonlFileSink } from '@vllm-tito/recorder'
import { VLLMModel, VLLMTokenRecorder, VLLMToolValidationHooks } from '@vllm-tito/strands'
import { answerText } from './shared/answer-text'
import { calculator } from './shared/calculator-tool'
import { type RolloutTask, RolloutTaskError, readRolloutTask, rewardFor } from './shared/rollout-task'

/** The model name sent when `VLLM_MODEL_ID` is unset: the gateway replaces it with its configured one. */
const PLACEHOLDER_MODEL_ID = 'agent-lightning-policy'
const SYSTEM_PROMPT =
  'You are a careful assistant. Use the calculator tool for every computation, then state the final answer.'

const EXIT_FAILED = 1
const EXIT_BAD_ENVIRONMENT = 2

/** Everything one rollout needs, read from the environment. */
interface AgentSetup {
  rollout: AgentLightningRollout
  task: RolloutTask
  modelId: string
  /**
   * `VLLM_TITO_RECORDS` as an absolute path (a relative one is taken from the directory the command was started
   * in, `INIT_CWD` under pnpm), or `undefined` when no record file is wanted.
   */
  recordsPath: string | undefined
}

/** What the agent did. */
interface RolloutOutcome {
  /** The text of the final message (the partial message's after a `max_tokens` cut). */
  answer: string
  /** Why it stopped: an answer, or the model's output cut at `max_tokens` (a policy outcome: reward 0). */
  ending: 'answered' | 'max-tokens'
  /** Model calls made, and how many of them carry ids verified against the server's usage. */
  calls: number
  verifiedCalls: number
}

/** Thrown for an incomplete environment: every problem is listed. */
class EnvironmentProblems extends Error {
  override readonly name = 'EnvironmentProblems'
}

/** Reads the AGL_* variables and the task together, so that every problem is reported at once. */
function readSetup(environment: NodeJS.ProcessEnv): AgentSetup {
  const problems: string[] = []
  let rollout: AgentLightningRollout | undefined
  let task: RolloutTask | undefined
  try {
    rollout = agentLightningFromEnv(environment, {
      onRetry: (retry) => console.error(`agl-agent: retrying the ${retry.eventType} post: ${retry.reason}`),
    })
  } catch (error) {
    if (!AgentLightningEnvironmentError.isInstance(error)) throw error
    problems.push(...error.problems.map((entry) => `${entry.variable}: ${entry.problem}`))
  }
  try {
    task = readRolloutTask(environment)
  } catch (error) {
    if (!(error instanceof RolloutTaskError)) throw error
    problems.push(...error.problems)
  }
  if (rollout === undefined || task === undefined) throw new EnvironmentProblems(problems.join('\n  '))
  const recordsPath = environment.VLLM_TITO_RECORDS?.trim() ?? ''
  return {
    rollout,
    task,
    modelId: environment.VLLM_MODEL_ID?.trim() || PLACEHOLDER_MODEL_ID,
    recordsPath: recordsPath === '' ? undefined : resolve(environment.INIT_CWD ?? process.cwd(), recordsPath),
  }
}

/** Runs the agent through the gateway; records are written to the JSONL file as they arrive. */
async function runRollout(setup: AgentSetup): Promise<RolloutOutcome> {
  const { rollout, task } = setup
  const model = new VLLMModel({
    baseUrl: rollout.baseUrl,
    apiKey: rollout.apiKey,
    modelId: setup.modelId,
    returnTokenIds: true,
    stream: false,
    // the gateway asks for logprobs in train mode anyway; asking here puts them into the records too
    params: { logprobs: true },
  })
  const sink = setup.recordsPath === undefined ? undefined : new JsonlFileSink(setup.recordsPath)
  const recorder = new VLLMTokenRecorder({ rolloutId: rollout.rolloutId, sink, addToSpan: false })
  const agent = new Agent({
    model,
    tools: [calculator],
    systemPrompt: SYSTEM_PROMPT,
    plugins: [recorder, new VLLMToolValidationHooks()],
    printer: false,
    conversationManager: new NullConversationManager(),
    retryStrategy: null,
  })
  const counts = () => ({
    calls: recorder.history.length,
    verifiedCalls: recorder.history.filter((record) => record.verification.verified).length,
  })
  try {
    const result = await agent.invoke(task.question)
    return { answer: answerText(result), ending: 'answered', ...counts() }
  } catch (error) {
    if (!(error instanceof MaxTokensError)) throw error
    const partial = error.partialMessage.content.flatMap((block) =>
      block.type === 'textBlock' ? [block.text] : [],
    )
    return { answer: partial.join('\n').trim(), ending: 'max-tokens', ...counts() }
  } finally {
    await sink?.close()
  }
}

async function main(): Promise<number> {
  let setup: AgentSetup
  try {
    setup = readSetup(process.env)
  } catch (error) {
    if (!(error instanceof EnvironmentProblems)) throw error
    console.error(`agl-agent: the environment is incomplete:\n  ${error.message}`)
    console.error('agl-agent: Agent Lightning sets AGL_*; QUESTION and ANSWER come from the rollout input')
    return EXIT_BAD_ENVIRONMENT
  }
  const { rollout, task } = setup
  console.log(
    `rollout ${rollout.rolloutId} (attempt ${rollout.attemptId}, ${rollout.mode}) via ${rollout.baseUrl}`,
  )
  console.log(`question: ${task.question}`)
  let outcome: RolloutOutcome
  try {
    outcome = await runRollout(setup)
  } catch (error) {
    console.error(`agl-agent: the rollout failed, no reward posted: ${describe(error)}`)
    return EXIT_FAILED
  }
  const reward = outcome.ending === 'answered' ? rewardFor(outcome.answer, task.answer) : 0
  const reason =
    outcome.ending === 'max-tokens' ? 'max-tokens' : reward === 1 ? 'answer-matched' : 'answer-differs'
  console.log(`answer: ${outcome.answer}${outcome.ending === 'max-tokens' ? ' (cut at max_tokens)' : ''}`)
  console.log(`model calls: ${outcome.calls} (token ids verified against usage: ${outcome.verifiedCalls})`)
  try {
    await rollout.emitReward(reward, {
      source: 'agent',
      reason,
      message: `expected ${JSON.stringify(task.answer)}`,
    })
  } catch (error) {
    console.error(`agl-agent: the reward could not be posted: ${describe(error)}`)
    return EXIT_FAILED
  }
  console.log(`reward: ${reward} posted (${reason})`)
  if (setup.recordsPath !== undefined) console.log(`token records (JSONL): ${setup.recordsPath}`)
  return 0
}

/** The error's message, with its cause's when that says more (the gateway's answer behind a ModelError). */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const cause =
    error.cause instanceof Error && error.cause.message !== error.message ? error.cause.message : ''
  return cause === '' ? `${error.name}: ${error.message}` : `${error.name}: ${error.message} (${cause})`
}

main().then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    console.error(`agl-agent: unexpected failure: ${describe(error)}`)
    process.exitCode = EXIT_FAILED
  },
)
