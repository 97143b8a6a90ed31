import type { ChatMessage, ChatRequest } from '@vllm-tito/spec'
import type { RolloutFunction, RolloutTask } from './rollout-types'

/** Options of {@link singleTurnRollout}. */
export interface SingleTurnRolloutOptions {
  /** A system message before the question. Default: none. */
  systemPrompt?: string
  /** The conversation to send instead (default: the system prompt, then the question as the user message). */
  messages?: (task: RolloutTask) => ChatMessage[]
}

/**
 * A rollout function without an agent: one chat call with the task's question through the rollout's client,
 * streaming or not as the runner's `stream` option says. The answer is the reply's text. A plain
 * `RolloutFunction`, to copy when writing your own.
 */
export function singleTurnRollout(options: SingleTurnRolloutOptions = {}): RolloutFunction {
  const messagesFor =
    options.messages ??
    ((task: RolloutTask): ChatMessage[] => [
      ...(options.systemPrompt === undefined
        ? []
        : [{ role: 'system' as const, content: options.systemPrompt }]),
      { role: 'user', content: task.question },
    ])
  return async (context) => {
    const request: ChatRequest = {
      ...context.samplingParams,
      model: context.modelId,
      messages: messagesFor(context.task),
      return_token_ids: true,
    }
    const records = context.stream
      ? await context.client.chat.stream(request).final()
      : await context.client.chat.create(request)
    return { records, answer: records[0]?.text ?? null }
  }
}
