import { type Agent, type AgentResult, MaxTokensError, type Message } from '@strands-agents/sdk'
import type { TokenStreamingClient } from '@vllm-tito/spec'
import { VLLMModel, type VLLMModelOptions, VLLMTokenRecorder } from '@vllm-tito/strands'
import type { RolloutContext, RolloutFunction, RolloutOutput } from './rollout-types'

/** What an agent factory gets: the rollout's context plus the model and recorder the agent must use. */
export interface AgentRolloutContext extends RolloutContext {
  /**
   * A `VLLMModel` for this rollout attempt only: it calls the model server through `context.client` (sticky
   * headers, the attempt's signal), asks for token ids, and sends `samplingParams` with every call.
   */
  model: VLLMModel
  /** A `VLLMTokenRecorder` for this rollout attempt only; put it in the agent's `plugins`. */
  recorder: VLLMTokenRecorder
}

/**
 * Builds the agent of one rollout attempt: `new Agent({ model: context.model, plugins: [context.recorder], … })`.
 * Called once per attempt, so no state is shared between rollouts or attempts. It may be async.
 */
export type AgentFactory = (context: AgentRolloutContext) => Agent | Promise<Agent>

/** Options of {@link agentRollout}. */
export interface AgentRolloutOptions {
  /** The answer from the agent's result. Default: the text blocks of the last message, joined, trimmed. */
  answer?: (result: AgentResult) => string | null
}

/**
 * A rollout function that runs a Strands agent: per attempt it makes one `VLLMModel` and one
 * `VLLMTokenRecorder`, builds the agent with `factory`, invokes it with the task's question (the attempt's signal
 * as `cancelSignal`), and returns the recorder's records and the answer.
 *
 * A call cut at `max_tokens` (the SDK's `MaxTokensError`) ends the rollout normally, as a truncated one: its
 * records are kept and the trainer rows mark it truncated. Any other error fails the attempt; the runner keeps
 * the records the attempt's client captured.
 *
 * The runner's `stream` option reaches the model as its `stream` option: non-streaming calls by default
 * (`chat.createEvents` of the rollout's client), streaming ones with `stream: true`; `result.modelCalls` counts
 * the calls of each mode.
 */
export function agentRollout(factory: AgentFactory, options: AgentRolloutOptions = {}): RolloutFunction {
  if (typeof factory !== 'function') throw new TypeError('agentRollout(factory): factory must be a function')
  const answerOf = options.answer ?? answerText
  return async (context: RolloutContext): Promise<RolloutOutput> => {
    const model = new VLLMModel(agentModelOptions(context))
    const recorder = new VLLMTokenRecorder({ rolloutId: String(context.rolloutId), addToSpan: false })
    const agent = await factory({ ...context, model, recorder })
    const records = () => (recorder.history.length > 0 ? [...recorder.history] : [...context.client.records])
    try {
      const result = await agent.invoke(context.task.question, { cancelSignal: context.signal })
      if (result.stopReason === 'cancelled') {
        throw context.signal.aborted ? context.signal.reason : new Error('the agent invocation was cancelled')
      }
      return { records: records(), answer: answerOf(result) }
    } catch (error) {
      if (error instanceof MaxTokensError && !context.signal.aborted) {
        return { records: records(), answer: messageText(error.partialMessage) || null }
      }
      throw error
    }
  }
}

/**
 * The `VLLMModel` options of a rollout attempt: the rollout's client (or `client`), its model, token ids, its
 * sampling params with every call, and its request mode (`stream: false` unless the run streams).
 */
export function agentModelOptions(
  context: RolloutContext,
  client: TokenStreamingClient = context.client,
): VLLMModelOptions {
  return {
    client,
    modelId: context.modelId,
    returnTokenIds: true,
    params: { ...context.samplingParams },
    stream: context.stream,
  }
}

/** The text blocks of the agent's final message, joined: the answer without the reasoning blocks. */
export function answerText(result: AgentResult): string | null {
  return messageText(result.lastMessage) || null
}

function messageText(message: Message | undefined): string {
  const texts: string[] = []
  for (const block of message?.content ?? []) {
    if (block.type === 'textBlock') texts.push(block.text)
  }
  return texts.join('\n').trim()
}
