import type { ContextOverflowWording } from './mock-vllm-options'
import { pythonJsonDumps } from './python-json'

/** vLLM's `ErrorInfo`: the body is `{"error": ErrorInfo}` and the HTTP status equals `code`. */
export interface VllmErrorInfo {
  message: string
  type: string
  param: string | null
  code: number
}

/** An error the handlers throw to answer with vLLM's error body. */
export class VllmHttpError extends Error {
  readonly info: VllmErrorInfo
  readonly headers: Record<string, string>

  constructor(info: VllmErrorInfo, headers: Record<string, string> = {}) {
    super(info.message)
    this.name = 'VllmHttpError'
    this.info = info
    this.headers = headers
  }
}

const typeByStatus: Record<number, string> = {
  400: 'BadRequestError',
  404: 'NotFoundError',
  429: 'RateLimitError',
  500: 'InternalServerError',
  501: 'NotImplementedError',
  503: 'ServiceUnavailableError',
}

/** A vLLM error with the `type` vLLM uses for the status. */
export function vllmError(status: number, message: string, param: string | null = null): VllmHttpError {
  return new VllmHttpError({
    message,
    type: typeByStatus[status] ?? 'InternalServerError',
    param,
    code: status,
  })
}

/** 400 `BadRequestError`. */
export function badRequest(message: string, param: string | null = null): VllmHttpError {
  return vllmError(400, message, param)
}

/** The compact body of a non-streaming error response. */
export function errorBody(info: VllmErrorInfo): string {
  return JSON.stringify({ error: info })
}

/** A mid-stream error event: Python `json.dumps` spacing, then `[DONE]`. */
export function streamErrorEvents(info: VllmErrorInfo): string {
  return `data: ${pythonJsonDumps({ error: info })}\n\ndata: [DONE]\n\n`
}

/** Exact validation texts of vLLM's `ChatCompletionRequest` and `CompletionRequest` validators. */
export const validationMessages = {
  streamOptionsWithoutStream: 'Stream options can only be defined when `stream=True`.',
  promptLogprobsWhileStreaming: '`prompt_logprobs` are not available when `stream=True`.',
  topLogprobsWithoutLogprobs: 'when using `top_logprobs`, `logprobs` must be set to true.',
  autoToolChoiceWithoutFlags:
    '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set',
  bothGenerationPromptAndContinue:
    'Cannot set both `continue_final_message` and `add_generation_prompt` to True.',
  unknownModel: (model: string) => `The model \`${model}\` does not exist.`,
  emptyTools:
    '`tools` must not be an empty array. Either provide at least one tool or omit the field entirely.',
  toolChoiceWithoutTools: 'When using `tool_choice`, `tools` must be set.',
  emptyStopString: 'stop cannot contain an empty string.',
  unknownNamedTool: 'The tool specified in `tool_choice` does not match any of the specified `tools`',
} as const

/**
 * The context-overflow error for a prompt of `inputTokens` with `maxTokens` requested (null: not sent),
 * in the chosen wording. Returns `undefined` when the request fits.
 */
export function contextOverflowError(
  wording: ContextOverflowWording,
  maxModelLen: number,
  inputTokens: number,
  maxTokens: number | null,
): VllmHttpError | undefined {
  const length = maxModelLen
  const input = inputTokens
  const requested = maxTokens ?? 0
  const inputTooLong = input >= length
  const totalTooLong = maxTokens !== null && input + maxTokens > length
  if (!inputTooLong && !totalTooLong) return undefined
  switch (wording) {
    case 'legacy': {
      const output = maxTokens ?? Math.max(0, length - input)
      return badRequest(
        `This model's maximum context length is ${length} tokens. However, you requested ${input + output} tokens (${input} in the messages, ${output} in the completion). Please reduce the length of the messages or completion.`,
      )
    }
    case 'v0.10':
      if (inputTooLong) {
        return badRequest(
          `This model's maximum context length is ${length} tokens. However, your request has ${input} input tokens. Please reduce the length of the input messages.`,
        )
      }
      return badRequest(
        `'max_tokens' or 'max_completion_tokens' is too large: ${requested}. This model's maximum context length is ${length} tokens and your request has ${input} input tokens (${requested} > ${length} - ${input}).`,
      )
    case 'v0.16':
      return badRequest(
        `You passed ${input} input tokens and requested ${requested} output tokens. However, the model's context length is only ${length} tokens, resulting in a maximum input length of ${length - requested} tokens. Please reduce the length of the input prompt. (parameter=input_tokens, value=${input})`,
        'input_tokens',
      )
    default:
      return badRequest(
        `This model's maximum context length is ${length} tokens. However, you requested ${requested} output tokens and your prompt contains ${input} input tokens, for a total of ${input + requested} tokens. Please reduce the length of the input prompt or the number of requested output tokens.`,
      )
  }
}
