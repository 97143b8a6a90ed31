import { ContextWindowOverflowError, ModelError, ModelThrottledError } from '@strands-agents/sdk'
import { APICallError, ContextOverflowError, StreamingUnsupportedError } from '@vllm-tito/spec'

/**
 * Maps an error of a {@link https://www.npmjs.com/package/@vllm-tito/spec | TokenStreamingClient} call to the
 * Strands error the agent loop understands: throttling (HTTP 429) → `ModelThrottledError` (the SDK's retry
 * strategy retries only this), context overflow → `ContextWindowOverflowError` (conversation managers react to
 * it), anything else → `ModelError`; a server that refuses streaming gets a `ModelError` saying to set
 * `stream: false`. The original error is always kept as `cause`, so typed client errors
 * (`StreamInterruptedError.partialRecords`, `APICallError.responseBody`) stay reachable.
 */
export function toStrandsError(error: unknown): ModelError {
  if (error instanceof ModelError) return error
  const message = error instanceof Error ? error.message : String(error)
  if (ContextOverflowError.isInstance(error)) {
    const overflow = new ContextWindowOverflowError(message)
    // the SDK's constructor takes no options, so the cause is attached afterwards
    overflow.cause = error
    return overflow
  }
  if (StreamingUnsupportedError.isInstance(error)) {
    const refusal = `HTTP ${error.statusCode ?? 400} from ${error.path ?? 'the server'}`
    return new ModelError(
      `the server refuses streaming calls (${refusal}); set \`stream: false\` on VLLMModel ` +
        "(new VLLMModel({ …, stream: false })), as Agent Lightning's gateway requires",
      { cause: error },
    )
  }
  if (APICallError.isInstance(error) && error.statusCode === 429) {
    return new ModelThrottledError(message, { cause: error })
  }
  return new ModelError(message, { cause: error })
}
