import type { ChatRequest, CompletionRequest } from '@vllm-tito/spec'

/** What reading a response needs to know about the request it answers. */
export interface ResponseSettings {
  /** `chat` (`/v1/chat/completions`) or `completion` (`/v1/completions`). */
  kind: 'chat' | 'completion'
  /** Whether the body is an SSE stream of chunks (`true`) or one JSON body. */
  streaming: boolean
  /** The requested model, used when no chunk named one. */
  requestedModel: string | null
  /** Whether the request asked for logprobs (chat `logprobs: true`, completions `logprobs: k`). */
  logprobsRequested: boolean
  /** Whether the request asked for alternatives (chat `top_logprobs > 0`, completions `logprobs > 0`). */
  topLogprobsRequested: boolean
  /** `return_tokens_as_token_ids`: logprob tokens read `token_id:N` and are cross-checked with the ids. */
  tokensAsTokenIds: boolean
  /** `return_token_ids: false` was sent, so missing ids are expected. */
  idsNotRequested: boolean
  /** `max_tokens` (or `max_completion_tokens`) of the request, `null` when it set none. */
  maxTokens: number | null
  /** `n`: choices per prompt (completion choice `i` belongs to prompt `floor(i / n)`). */
  choicesPerPrompt: number
  /** Choices the response holds: prompts × `n` (chat has one prompt). */
  choiceCount: number
}

/** How to read the answer to a chat request. */
export function chatSettings(request: ChatRequest, streaming: boolean): ResponseSettings {
  const logprobsRequested = request.logprobs === true
  const shared = sharedSettings(request, streaming)
  return {
    kind: 'chat',
    ...shared,
    logprobsRequested,
    topLogprobsRequested:
      logprobsRequested && typeof request.top_logprobs === 'number' && request.top_logprobs > 0,
    choiceCount: shared.choicesPerPrompt,
  }
}

/** How to read the answer to a completions request. */
export function completionSettings(request: CompletionRequest, streaming: boolean): ResponseSettings {
  const logprobs = request.logprobs
  const logprobsRequested = typeof logprobs === 'number' && logprobs >= 0
  const shared = sharedSettings(request, streaming)
  return {
    kind: 'completion',
    ...shared,
    logprobsRequested,
    topLogprobsRequested: logprobsRequested && logprobs > 0,
    choiceCount: promptCount(request.prompt) * shared.choicesPerPrompt,
  }
}

/** The settings both endpoints read the same way. */
function sharedSettings(request: ChatRequest | CompletionRequest, streaming: boolean) {
  return {
    streaming,
    requestedModel: request.model,
    tokensAsTokenIds: request.return_tokens_as_token_ids === true,
    idsNotRequested: request.return_token_ids === false,
    maxTokens: readMaxTokens(request),
    choicesPerPrompt: positiveInteger(request.n) ?? 1,
  }
}

/** A string or a token-id list is one prompt; a list of strings or of id lists is one prompt per entry. */
function promptCount(prompt: CompletionRequest['prompt']): number {
  if (!Array.isArray(prompt)) return 1
  return prompt.every((item) => typeof item === 'number') ? 1 : prompt.length
}

function readMaxTokens(request: ChatRequest | CompletionRequest): number | null {
  return positiveInteger(request.max_tokens) ?? positiveInteger(request.max_completion_tokens) ?? null
}

function positiveInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined
}
