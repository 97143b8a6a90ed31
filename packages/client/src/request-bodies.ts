import {
  type ChatRequest,
  type CompletionRequest,
  describeValue,
  findTokenIdsProblem,
  InvalidOptionError,
  isPlainObject,
} from '@vllm-tito/spec'

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

/** Checks what the client relies on before anything is sent; the {@link InvalidOptionError} names the field. */
export function validateChatRequest(request: ChatRequest, method: string): void {
  validateCommon(request, method)
  if (!Array.isArray(request.messages)) {
    throw new InvalidOptionError(method, 'messages', '`messages` must be an array of chat messages')
  }
}

/** Checks a completions request; token-id prompts must hold token ids. */
export function validateCompletionRequest(request: CompletionRequest, method: string): void {
  validateCommon(request, method)
  const prompt: unknown = request.prompt
  if (typeof prompt === 'string') return
  if (!Array.isArray(prompt) || prompt.length === 0) {
    throw new InvalidOptionError(
      method,
      'prompt',
      '`prompt` must be a string, a non-empty array of strings, token ids (number[]) or batches of token ids (number[][])',
    )
  }
  if (prompt.every((item) => typeof item === 'string')) return
  if (prompt.every((item) => typeof item === 'number')) {
    throwUnlessTokenIds(prompt, 'prompt', method)
    return
  }
  if (prompt.every((item) => Array.isArray(item))) {
    prompt.forEach((ids: unknown[], position) => {
      if (ids.length === 0) {
        throw new InvalidOptionError(method, 'prompt', `prompt[${position}] is an empty token id list`)
      }
      throwUnlessTokenIds(ids, `prompt[${position}]`, method)
    })
    return
  }
  throw new InvalidOptionError(method, 'prompt', '`prompt` mixes strings, numbers and arrays; use one form')
}

function validateCommon(request: unknown, method: string): void {
  if (!isPlainObject(request)) {
    throw new InvalidOptionError(
      method,
      '(request)',
      `the request must be an object, got ${describeValue(request)}`,
    )
  }
  if (typeof request.model !== 'string' || request.model === '') {
    throw new InvalidOptionError(
      method,
      'model',
      '`model` must be a non-empty string (the name the server lists in /v1/models)',
    )
  }
}

function throwUnlessTokenIds(ids: unknown[], field: string, method: string): void {
  const problem = findTokenIdsProblem(ids, field)
  if (problem !== undefined) throw new InvalidOptionError(method, 'prompt', problem)
}
