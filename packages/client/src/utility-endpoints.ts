import {
  APICallError,
  describeValue,
  InvalidOptionError,
  isPlainObject,
  isTokenIdList,
  OptionReader,
} from '@vllm-tito/spec'
import { CallAbort } from './call-abort'
import { malformedBody, requestJson } from './json-request'
import type { TokenizeInput, TokenizeResult, UtilityCallOptions, VLLMModelInfo } from './utility-types'
import type { VLLMTransport } from './vllm-transport'

const TOKENIZE_INPUT_KEYS = [
  'model',
  'addSpecialTokens',
  'returnTokenStrings',
  'messages',
  'tools',
  'addGenerationPrompt',
  'continueFinalMessage',
  'chatTemplateKwargs',
  'chatTemplate',
  'prompt',
]

/**
 * vLLM's utility endpoints, at the server root (not under `/v1`, except `/v1/models`): `/tokenize`,
 * `/detokenize`, `/health`, `/version`, `/v1/models`. Each validates its input before sending and turns a
 * body of the wrong shape into a non-retryable `APICallError` naming the endpoint.
 */
export class UtilityEndpoints {
  readonly #transport: VLLMTransport
  readonly #timeoutMs: number

  constructor(transport: VLLMTransport, timeoutMs: number) {
    this.#transport = transport
    this.#timeoutMs = timeoutMs
  }

  /** `POST /tokenize`: a conversation rendered exactly as chat renders it, or a plain prompt. */
  async tokenize(input: TokenizeInput, options?: UtilityCallOptions): Promise<TokenizeResult> {
    const body = tokenizeBody(input)
    const result = await this.#json('post', '/tokenize', body, readSignal('tokenize', options))
    if (!isPlainObject(result) || !isTokenIdList(result.tokens) || typeof result.count !== 'number') {
      throw malformedBody('/tokenize', 'expected {count, tokens}', result)
    }
    const tokenStrings = Array.isArray(result.token_strs)
      ? result.token_strs.filter((piece): piece is string => typeof piece === 'string')
      : null
    return {
      count: result.count,
      maxModelLen: typeof result.max_model_len === 'number' ? result.max_model_len : null,
      tokenIds: result.tokens,
      tokenStrings,
    }
  }

  /** `POST /detokenize`: the text of `tokenIds` (special tokens kept as the server decodes them). */
  async detokenize(
    tokenIds: readonly number[],
    options?: UtilityCallOptions & { model?: string },
  ): Promise<string> {
    const read = new OptionReader('detokenize', options).rejectUnknown(['signal', 'model'])
    if (!isTokenIdList(tokenIds)) {
      throw new InvalidOptionError('detokenize', 'tokenIds', '`tokenIds` must be an array of token ids')
    }
    const body: Record<string, unknown> = { tokens: tokenIds }
    const model = read.string('model', { nonEmpty: true })
    if (model !== undefined) body.model = model
    const result = await this.#json('post', '/detokenize', body, readSignalFrom(read))
    if (!isPlainObject(result) || typeof result.prompt !== 'string') {
      throw malformedBody('/detokenize', 'expected {prompt}', result)
    }
    return result.prompt
  }

  /** `GET /health`: `true` on 200, `false` on an error status or no connection. Not retried. */
  async health(options?: UtilityCallOptions): Promise<boolean> {
    const signal = readSignal('health', options)
    try {
      const started = await this.#transport.send({
        method: 'get',
        path: '/health',
        signal: new CallAbort(signal).signal,
        maxRetries: 0,
      })
      await started.response.body?.cancel()
      return true
    } catch (error) {
      if (APICallError.isInstance(error)) return false
      throw error
    }
  }

  /** `GET /version`: the server's vLLM version, e.g. `0.11.0`. */
  async version(options?: UtilityCallOptions): Promise<string> {
    const result = await this.#json('get', '/version', undefined, readSignal('version', options))
    if (!isPlainObject(result) || typeof result.version !== 'string') {
      throw malformedBody('/version', 'expected {version}', result)
    }
    return result.version
  }

  /** `GET /v1/models`: the served models with their context length. */
  async models(options?: UtilityCallOptions): Promise<VLLMModelInfo[]> {
    const result = await this.#json('get', '/v1/models', undefined, readSignal('models', options))
    if (!isPlainObject(result) || !Array.isArray(result.data)) {
      throw malformedBody('/v1/models', 'expected {data: [...]}', result)
    }
    return result.data.filter(isPlainObject).map((model) => ({
      id: String(model.id),
      created: typeof model.created === 'number' ? model.created : null,
      ownedBy: typeof model.owned_by === 'string' ? model.owned_by : null,
      root: typeof model.root === 'string' ? model.root : null,
      parent: typeof model.parent === 'string' ? model.parent : null,
      maxModelLen: typeof model.max_model_len === 'number' ? model.max_model_len : null,
    }))
  }

  async #json(method: 'get' | 'post', path: string, body: unknown, signal: AbortSignal | undefined) {
    const answer = await requestJson(this.#transport, { method, path, body, signal }, this.#timeoutMs)
    return answer.parsed
  }
}

/** The `signal` of a call's options, which may hold nothing else. */
export function readSignal(where: string, options: unknown): AbortSignal | undefined {
  return readSignalFrom(new OptionReader(where, options).rejectUnknown(['signal']))
}

function readSignalFrom(read: OptionReader): AbortSignal | undefined {
  return read.custom(
    'signal',
    'an AbortSignal',
    (value): value is AbortSignal => value instanceof AbortSignal,
  )
}

function tokenizeBody(input: TokenizeInput): Record<string, unknown> {
  if (!isPlainObject(input)) {
    throw new InvalidOptionError(
      'tokenize',
      '(input)',
      `input must be an object with \`messages\` or \`prompt\`, got ${describeValue(input)}`,
    )
  }
  const read = new OptionReader('tokenize', input).rejectUnknown(TOKENIZE_INPUT_KEYS)
  if ((input.messages === undefined) === (input.prompt === undefined)) {
    read.fail('messages', 'give exactly one of `messages` (chat form) or `prompt` (text form)')
  }
  const body: Record<string, unknown> = {}
  const fields: Array<[string, unknown]> = [
    ['model', read.string('model', { nonEmpty: true })],
    ['add_special_tokens', read.boolean('addSpecialTokens')],
    ['return_token_strs', read.boolean('returnTokenStrings')],
  ]
  if (input.prompt !== undefined) {
    fields.push(['prompt', read.string('prompt', { required: true })])
  } else {
    fields.push(
      ['messages', read.custom('messages', 'an array of chat messages', Array.isArray)],
      ['tools', read.custom('tools', 'an array of tools', Array.isArray)],
      ['add_generation_prompt', read.boolean('addGenerationPrompt')],
      ['continue_final_message', read.boolean('continueFinalMessage')],
      ['chat_template_kwargs', read.object('chatTemplateKwargs')],
      ['chat_template', read.string('chatTemplate')],
    )
  }
  for (const [wireName, value] of fields) if (value !== undefined) body[wireName] = value
  return body
}
