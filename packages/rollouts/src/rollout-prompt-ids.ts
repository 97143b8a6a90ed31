import { VLLMClient } from '@vllm-tito/client'
import type { ChatRequest } from '@vllm-tito/spec'
import { describeError } from './classify-failure'
import type { RolloutContext } from './rollout-types'
import type { RunSettings } from './run-options'

/** How long the prompt of a failed rollout may take to tokenize. */
const TOKENIZE_TIMEOUT_MS = 10_000

/** What a finished attempt knows about its prompt. */
export interface AttemptPrompt {
  /** The prompt ids the rollout function returned, if any. */
  given: readonly number[] | null | undefined
  /** The first chat request the attempt's client sent, or `null` when it made no call. */
  sent: ChatRequest | null
  /** The attempt's context, for the run's `firstRequest`. */
  context: RolloutContext
}

/**
 * The prompt ids of a rollout without a verified record: the rollout's own, else `/tokenize` of its first
 * request — the one its client sent, or, when it made no model call, the run's `firstRequest`. Never rejects:
 * without ids, `problem` says why (the trainer export then leaves the rollout out and names it).
 */
export async function findPromptIds(
  prompt: AttemptPrompt,
  settings: RunSettings,
  runSignal: AbortSignal,
): Promise<{ ids: number[] | null; problem?: string }> {
  if (prompt.given !== undefined && prompt.given !== null) return { ids: [...prompt.given] }
  if (runSignal.aborted) return { ids: null, problem: 'the run was cancelled' }
  let request = prompt.sent
  if (request === null) {
    if (settings.firstRequest === undefined) {
      return {
        ids: null,
        problem:
          'it made no model call, and the run has no firstRequest to tell its prompt (pass firstRequest, e.g. agentFirstRequest(factory))',
      }
    }
    try {
      request = await settings.firstRequest(prompt.context)
    } catch (error) {
      return { ids: null, problem: `its first request could not be built: ${describeError(error)}` }
    }
  }
  try {
    const client = new VLLMClient({
      baseUrl: settings.baseUrl,
      apiKey: settings.apiKey,
      maxRetries: settings.clientRetries,
    })
    const result = await client.tokenize(tokenizeInput(request), {
      signal: AbortSignal.any([runSignal, AbortSignal.timeout(TOKENIZE_TIMEOUT_MS)]),
    })
    return { ids: result.tokenIds }
  } catch (error) {
    // nothing is invented: without the server's own rendering there are no prompt ids
    return { ids: null, problem: `POST /tokenize of its first request failed: ${describeError(error)}` }
  }
}

/** The chat form of `/tokenize` for a chat request: the same messages, tools and template arguments. */
function tokenizeInput(request: ChatRequest) {
  const kwargs = request.chat_template_kwargs
  return {
    model: request.model,
    messages: request.messages,
    ...(Array.isArray(request.tools) && request.tools.length > 0 ? { tools: request.tools } : {}),
    addGenerationPrompt: true,
    ...(kwargs !== undefined && kwargs !== null && typeof kwargs === 'object'
      ? { chatTemplateKwargs: kwargs as Record<string, unknown> }
      : {}),
  }
}
