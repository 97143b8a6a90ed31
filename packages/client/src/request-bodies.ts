import { type ChatRequest, type CompletionRequest, VLLMTitoError } from '@vllm-tito/spec'
import type { AccumulatorSettings } from './token-accumulator'
import { isRecord } from './wire-errors'

/**
 * The body sent on the wire: the caller's fields unchanged, plus `return_token_ids: true` and (streaming)
 * `stream_options.include_usage: true` unless the caller set them. `stream_options: null` opts out of
 * stream options entirely; it is never sent without `stream: true` (vLLM rejects that with a 400).
 */
export function wireBody(request: ChatRequest | CompletionRequest, stream: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = { ...request, stream }
  body.return_token_ids = request.return_token_ids ?? true
  const streamOptions = request.stream_options
  if (stream && streamOptions !== null) {
    body.stream_options = { include_usage: true, ...streamOptions }
  } else {
    delete body.stream_options
  }
  return body
}

/** How to read the answer to a chat request. */
export function chatSettings(request: ChatRequest, streaming: boolean): AccumulatorSettings {
  const logprobsRequested = request.logprobs === true
  return {
    kind: 'chat',
    streaming,
    requestedModel: request.model,
    logprobsRequested,
    topLogprobsRequested:
      logprobsRequested && typeof request.top_logprobs === 'number' && request.top_logprobs > 0,
    tokensAsTokenIds: request.return_tokens_as_token_ids === true,
    idsNotRequested: request.return_token_ids === false,
    maxTokens: readMaxTokens(request),
    choicesPerPrompt: positiveInteger(request.n) ?? 1,
  }
}

/** How to read the answer to a completions request. */
export function completionSettings(request: CompletionRequest, streaming: boolean): AccumulatorSettings {
  const logprobs = request.logprobs
  const logprobsRequested = typeof logprobs === 'number' && logprobs >= 0
  return {
    kind: 'completion',
    streaming,
    requestedModel: request.model,
    logprobsRequested,
    topLogprobsRequested: logprobsRequested && logprobs > 0,
    tokensAsTokenIds: request.return_tokens_as_token_ids === true,
    idsNotRequested: request.return_token_ids === false,
    maxTokens: readMaxTokens(request),
    choicesPerPrompt: positiveInteger(request.n) ?? 1,
  }
}

/** Checks what the client relies on before anything is sent; the error names the field. */
export function validateChatRequest(request: ChatRequest, method: string): void {
  validateCommon(request, method)
  if (!Array.isArray(request.messages)) {
    throw new VLLMTitoError(`${method}: \`messages\` must be an array of chat messages`)
  }
}

/** Checks a completions request; token-id prompts must hold non-negative integers. */
export function validateCompletionRequest(request: CompletionRequest, method: string): void {
  validateCommon(request, method)
  const prompt: unknown = request.prompt
  if (typeof prompt === 'string') return
  if (!Array.isArray(prompt) || prompt.length === 0) {
    throw new VLLMTitoError(
      `${method}: \`prompt\` must be a string, a non-empty array of strings, token ids (number[]) or batches of token ids (number[][])`,
    )
  }
  if (prompt.every((item) => typeof item === 'string')) return
  if (prompt.every((item) => typeof item === 'number')) {
    checkIds(prompt, `${method}: prompt`)
    return
  }
  if (prompt.every((item) => Array.isArray(item))) {
    prompt.forEach((ids: unknown[], position) => {
      if (ids.length === 0)
        throw new VLLMTitoError(`${method}: prompt[${position}] is an empty token id list`)
      checkIds(ids, `${method}: prompt[${position}]`)
    })
    return
  }
  throw new VLLMTitoError(`${method}: \`prompt\` mixes strings, numbers and arrays; use one form`)
}

function validateCommon(request: unknown, method: string): void {
  if (!isRecord(request)) throw new VLLMTitoError(`${method}: the request must be an object`)
  if (typeof request.model !== 'string' || request.model === '') {
    throw new VLLMTitoError(
      `${method}: \`model\` must be a non-empty string (the name the server lists in /v1/models)`,
    )
  }
}

function checkIds(ids: unknown[], label: string): void {
  ids.forEach((id, position) => {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      throw new VLLMTitoError(
        `${label}[${position}] is ${JSON.stringify(id)}; token ids are non-negative integers`,
      )
    }
  })
}

function readMaxTokens(request: ChatRequest | CompletionRequest): number | null {
  return positiveInteger(request.max_tokens) ?? positiveInteger(request.max_completion_tokens) ?? null
}

function positiveInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined
}
