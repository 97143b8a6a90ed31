import { isPlainObject } from '@vllm-tito/spec'
import type { StopConditions } from './generation'
import { badRequest, validationMessages } from './vllm-errors'

/** The streaming fields chat and completion requests share, after vLLM's validators checked them. */
export interface StreamingFields {
  /** `stream`, default false. */
  stream: boolean
  /** `stream_options.include_usage` (on unless `false` when `stream_options` is sent). */
  includeUsage: boolean
  /** `stream_options.continuous_usage_stats`. */
  continuousUsage: boolean
  /** `prompt_logprobs` (non-streaming only), or undefined. */
  promptLogprobs: number | undefined
}

/** The chat-template flags of chat and `/tokenize` requests. */
export interface TemplateFlags {
  /** `add_generation_prompt`, default true. */
  addGenerationPrompt: boolean
  /** `continue_final_message`, default false. */
  continueFinal: boolean
}

/** Typed readers of request-body fields: a wrong type is a 400 naming the field, as vLLM's validation does. */
export class RequestFields {
  constructor(readonly body: Record<string, unknown>) {}

  optionalBoolean(name: string): boolean | undefined {
    const value = this.body[name]
    if (value === undefined || value === null) return undefined
    if (typeof value !== 'boolean')
      throw badRequest(`${name}: Input should be a valid boolean, got ${show(value)}`)
    return value
  }

  /**
   * An integer field. `true` and `false` read as 1 and 0: vLLM's request models validate in pydantic's lax
   * mode, whose int conversion accepts booleans (Agent Lightning's gateway sends `logprobs: true` to
   * `/v1/completions`, where the field is an int).
   */
  optionalInteger(name: string, minimum?: number): number | undefined {
    const raw = this.body[name]
    if (raw === undefined || raw === null) return undefined
    const value = typeof raw === 'boolean' ? Number(raw) : raw
    if (!Number.isInteger(value))
      throw badRequest(`${name}: Input should be a valid integer, got ${show(raw)}`)
    if (minimum !== undefined && (value as number) < minimum) {
      throw badRequest(`${name} must be at least ${minimum}, got ${value}.`, name)
    }
    return value as number
  }

  optionalObject(name: string): Record<string, unknown> | undefined {
    const value = this.body[name]
    if (value === undefined || value === null) return undefined
    if (!isPlainObject(value)) {
      throw badRequest(`${name}: Input should be a valid dictionary, got ${show(value)}`)
    }
    return value
  }

  /** `stream`, `stream_options` and `prompt_logprobs`, with the two streaming checks of vLLM's validators. */
  streaming(): StreamingFields {
    const stream = this.optionalBoolean('stream') ?? false
    const streamOptions = this.optionalObject('stream_options')
    const promptLogprobs = this.optionalInteger('prompt_logprobs', -1)
    if (streamOptions && !stream) throw badRequest(validationMessages.streamOptionsWithoutStream)
    if (stream && promptLogprobs !== undefined && promptLogprobs !== 0) {
      throw badRequest(validationMessages.promptLogprobsWhileStreaming)
    }
    return {
      stream,
      includeUsage: streamOptions ? streamOptions.include_usage !== false : false,
      continuousUsage: streamOptions?.continuous_usage_stats === true,
      promptLogprobs,
    }
  }

  /** `n` (default 1, at least 1). */
  choiceCount(): number {
    return this.optionalInteger('n', 1) ?? 1
  }

  /** The engine's stop conditions: `maxTokens` plus `stop`, `stop_token_ids`, `skip_special_tokens`. */
  stopConditions(maxTokens: number): StopConditions {
    return {
      maxTokens,
      stop: this.stopStrings(),
      stopTokenIds: this.stopTokenIds(),
      keepSpecialTokens: this.optionalBoolean('skip_special_tokens') === false,
    }
  }

  /** `add_generation_prompt` and `continue_final_message`, which vLLM refuses together. */
  templateFlags(): TemplateFlags {
    const addGenerationPrompt = this.optionalBoolean('add_generation_prompt') ?? true
    const continueFinal = this.optionalBoolean('continue_final_message') ?? false
    if (addGenerationPrompt && continueFinal)
      throw badRequest(validationMessages.bothGenerationPromptAndContinue)
    return { addGenerationPrompt, continueFinal }
  }

  private stopStrings(): string[] {
    const value = this.body.stop
    if (value === undefined || value === null) return []
    const stops = typeof value === 'string' ? [value] : value
    if (!Array.isArray(stops) || !stops.every((item) => typeof item === 'string'))
      throw badRequest(`stop: Input should be a valid string or list of strings, got ${show(value)}`)
    // SamplingParams._verify_args: an empty stop string would match at once
    if (stops.includes('')) throw badRequest(validationMessages.emptyStopString)
    return stops
  }

  private stopTokenIds(): number[] {
    const value = this.body.stop_token_ids
    if (value === undefined || value === null) return []
    // vLLM's field is `list[int]`: any integer is accepted here, unknown ids simply never match
    if (Array.isArray(value) && value.every((item) => Number.isInteger(item))) return value as number[]
    throw badRequest(`stop_token_ids: Input should be a valid list of integers, got ${show(value)}`)
  }
}

/** A value as pydantic's error texts quote it (cut at 80 characters). */
function show(value: unknown): string {
  const text = JSON.stringify(value)
  return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 77)}...` : text
}
