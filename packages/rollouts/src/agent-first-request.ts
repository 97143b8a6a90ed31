import type { ChatRequest, TokenStream, TokenStreamingClient } from '@vllm-tito/spec'
import { VLLMModel, VLLMTokenRecorder } from '@vllm-tito/strands'
import { type AgentFactory, agentModelOptions } from './agent-rollout'
import type { FirstRequestFunction, RolloutContext } from './rollout-types'

/**
 * The first request of an agent factory's agents, captured without calling the model server: per call it builds
 * the agent as `agentRollout` does, but with a `VLLMModel` whose client keeps the first chat request and ends
 * the call there, so the request is exactly what the real `VLLMModel` would send (system prompt, question,
 * tools, sampling params). The runner tokenizes it for the prompt ids of a rollout that failed before its first
 * model call (pass it as the run's `firstRequest`).
 *
 * Use it only with a factory that does nothing but build the agent: the factory and the agent's hooks run once
 * more for the capture.
 */
export function agentFirstRequest(factory: AgentFactory): FirstRequestFunction {
  if (typeof factory !== 'function') {
    throw new TypeError('agentFirstRequest(factory): factory must be a function')
  }
  return async (context: RolloutContext): Promise<ChatRequest> => {
    const capture = new RequestCapture()
    const model = new VLLMModel(agentModelOptions(context, capture))
    const recorder = new VLLMTokenRecorder({ rolloutId: String(context.rolloutId), addToSpan: false })
    const agent = await factory({ ...context, model, recorder })
    // the call ends with the capture's error once the request is kept; what the agent makes of it is moot
    await agent.invoke(context.task.question).catch(() => {})
    if (capture.request === null) {
      throw new Error('the agent made no chat call through context.model, so its first request is unknown')
    }
    return capture.request
  }
}

/** A client whose calls keep the first chat request and fail at once: nothing reaches a server. */
class RequestCapture implements TokenStreamingClient {
  request: ChatRequest | null = null
  readonly chat = {
    stream: (request: ChatRequest) => this.#keep(request),
    createEvents: (request: ChatRequest) => this.#keep(request),
  }

  #keep(request: ChatRequest): TokenStream {
    this.request ??= { ...request, messages: [...request.messages] }
    const stop = () => Promise.reject(new Error('the first request is captured; the call ends here'))
    return {
      [Symbol.asyncIterator]: () => ({ next: stop }),
      final: stop,
      abort: () => {},
    }
  }
}
