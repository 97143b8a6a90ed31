import {
  type ContentBlock,
  type JSONValue,
  MaxTokensError,
  type Message,
  Model,
  ModelError,
  type ModelStreamEvent,
  type StreamOptions,
} from '@strands-agents/sdk'
import { VLLMClient } from '@vllm-tito/client'
import {
  type ChatRequest,
  MESSAGE_METADATA_KEY,
  type StreamCallOptions,
  type TokenStream,
  type TokenStreamingClient,
} from '@vllm-tito/spec'
import { formatChatRequest } from './format-chat-request'
import { mapTokenStream } from './map-token-stream'
import { toStrandsError } from './to-strands-error'
import { TemplateRenderer, type TokenizeFunction, templateCacheFor } from './token-in/template-renderer'
import { type CompleteFunction, TokenInSession } from './token-in/token-in-session'
import type { VLLMModelConfig, VLLMModelOptions } from './vllm-model-config'
import { readModelConfig, readModelOptions } from './vllm-model-options'

/** What `Model.streamAggregated` returns (the SDK does not export the type by name). */
type StreamAggregatedResult =
  ReturnType<Model['streamAggregated']> extends AsyncGenerator<unknown, infer Result, undefined>
    ? Result
    : never

/**
 * A Strands model provider for vLLM that captures the exact token ids of every call (token-in/token-out).
 *
 * Each call streams `/v1/chat/completions` through a {@link TokenStreamingClient} (by default a `VLLMClient`
 * from `@vllm-tito/client`) and yields Strands events: reasoning, text, every tool call (parallel ones
 * included), usage. With `stream: false` each call is one non-streaming request whose response the client
 * hands out as the events a stream gives, so both modes map through the same code to the same events and
 * records (for servers that refuse streaming, such as Agent Lightning's gateway). The message-stop event
 * carries `additionalModelResponseFields` = `{ prompt_token_ids, token_ids, token_record }`, and the same
 * object is set on the aggregated message as `message.metadata.custom.vllm`, so it survives into
 * `agent.messages` and the `AgentResult` (and into `MaxTokensError.partialMessage`).
 *
 * With `tokenIn` the model keeps its conversation as one token sequence instead (token-in mode): the first
 * prompt is rendered with `/tokenize`, later ones append the template's tokens for the new messages to the
 * previous prompt and response ids, and each call generates from the ids with `/v1/completions`; the reply is
 * parsed into the same events and record fields, and the record's `tokenIn` says how its prompt was built.
 * That state belongs to the instance: one model per conversation.
 *
 * @example
 * ```ts
 * const model = new VLLMModel({ baseUrl: 'http://localhost:8000/v1', modelId: 'Qwen/Qwen3-8B', returnTokenIds: true })
 * const agent = new Agent({ model, printer: false })
 * const result = await agent.invoke('What is 2+2?')
 * ```
 */
export class VLLMModel extends Model<VLLMModelConfig> {
  private config: VLLMModelConfig & { modelId: string }
  private client: TokenStreamingClient
  /** An ES private field, not a TS `private` one: those show in `util.inspect` and `JSON.stringify`. */
  readonly #apiKey: string
  /** The key for `tokenIn.tokenizeBaseUrl`: the model's own key never goes to another server. */
  readonly #tokenizeApiKey: string
  private readonly ownsClient: boolean
  /** Token-in mode's kept sequence, when `tokenIn` is set: one per model instance (one conversation). */
  #tokenIn: TokenInSession | undefined

  /**
   * @throws InvalidOptionError (from `@vllm-tito/spec`) naming the option: a missing `modelId`, neither
   *   `baseUrl` nor `client`, a `params`/`params.extra_body` that is not an object, a misspelt option name.
   */
  constructor(options: VLLMModelOptions) {
    super()
    const { apiKey, tokenizeApiKey, client, config } = readModelOptions(options)
    this.config = config
    this.#apiKey = apiKey
    this.#tokenizeApiKey = tokenizeApiKey
    this.ownsClient = client === undefined
    this.client = client ?? createDefaultClient(this.config, apiKey)
    this.#tokenIn = createTokenInSession(this.config, this.client, tokenizeApiKey)
  }

  /**
   * Merges `modelConfig` into the config; a new `baseUrl` rebuilds the default client (not a passed one).
   * @throws InvalidOptionError as the constructor does.
   */
  override updateConfig(modelConfig: VLLMModelConfig): void {
    const previous = this.config
    this.config = readModelConfig(
      'VLLMModel.updateConfig',
      { ...this.config, ...modelConfig },
      this.ownsClient ? undefined : this.client,
    )
    const newClient = this.ownsClient && this.config.baseUrl !== previous.baseUrl
    if (newClient) this.client = createDefaultClient(this.config, this.#apiKey)
    // a new server, model or mode starts a new sequence; other changes are seen by the next call's check
    const changed = (key: 'modelId' | 'tokenIn') =>
      JSON.stringify(this.config[key] ?? null) !== JSON.stringify(previous[key] ?? null)
    if (newClient || changed('modelId') || changed('tokenIn')) {
      this.#tokenIn = createTokenInSession(this.config, this.client, this.#tokenizeApiKey)
    }
  }

  /** A copy of the current config (without the API key). */
  override getConfig(): VLLMModelConfig {
    return { ...this.config }
  }

  /**
   * Runs one model call: streaming, or with `stream: false` one non-streaming call read as the same events;
   * in token-in mode a `/tokenize` render and a completion from ids. `options.cancelSignal` aborts the HTTP
   * request. Errors are Strands errors: `ModelThrottledError` (HTTP 429), `ContextWindowOverflowError`,
   * otherwise `ModelError` with the client's error (or token-in mode's `TokenInError`) as `cause` (for a server
   * that refuses streaming, its message says to set `stream: false`).
   */
  override async *stream(messages: Message[], options?: StreamOptions): AsyncGenerator<ModelStreamEvent> {
    try {
      const request = formatChatRequest(this.config, messages, options)
      const streaming = this.config.stream !== false
      if (this.#tokenIn !== undefined) {
        yield* mapTokenStream(this.#tokenIn.call({ messages, options, chat: request, streaming }))
        return
      }
      const callOptions = options?.cancelSignal === undefined ? undefined : { signal: options.cancelSignal }
      yield* mapTokenStream(startCall(this.client, request, callOptions, streaming))
    } catch (error) {
      throw toStrandsError(error)
    }
  }

  /**
   * The SDK's aggregation, plus: the message-stop event's `additionalModelResponseFields` is copied to
   * `message.metadata.custom.vllm` of the returned message — or of `MaxTokensError.partialMessage` when the
   * call stopped on `length` — because the SDK itself keeps only usage and metrics on messages.
   */
  override async *streamAggregated(
    messages: Message[],
    options?: StreamOptions,
  ): AsyncGenerator<ModelStreamEvent | ContentBlock, StreamAggregatedResult, undefined> {
    const inner = super.streamAggregated(messages, options)
    let responseFields: JSONValue | undefined
    try {
      let step = await inner.next()
      while (!step.done) {
        const value = step.value
        if (value.type === 'modelMessageStopEvent') responseFields = value.additionalModelResponseFields
        yield value
        step = await inner.next()
      }
      attachResponseFields(step.value.message, responseFields)
      return step.value
    } catch (error) {
      if (error instanceof MaxTokensError) attachResponseFields(error.partialMessage, responseFields)
      throw error
    } finally {
      // closes the inner generator (and so the HTTP stream) when our consumer stops early; a no-op once it
      // finished. The return value passed in is never observed, hence the cast.
      await inner.return(undefined as never)
    }
  }
}

function attachResponseFields(message: Message, responseFields: JSONValue | undefined): void {
  if (responseFields === undefined) return
  message.metadata = {
    ...message.metadata,
    custom: { ...message.metadata?.custom, [MESSAGE_METADATA_KEY]: responseFields },
  }
}

/** Starts the call: a stream, or a non-streaming call read as the events a stream gives. */
function startCall(
  client: TokenStreamingClient,
  request: ChatRequest,
  options: StreamCallOptions | undefined,
  streaming: boolean,
): TokenStream {
  if (streaming) return client.chat.stream(request, options)
  // the options check refuses `stream: false` for such a client; this covers one that lost the method since
  if (client.chat.createEvents === undefined) {
    throw new ModelError('`stream: false` needs a client with chat.createEvents; the client can only stream')
  }
  return client.chat.createEvents(request, options)
}

function createDefaultClient(config: VLLMModelConfig, apiKey: string): TokenStreamingClient {
  return new VLLMClient({ baseUrl: config.baseUrl as string, apiKey })
}

/**
 * Token-in mode's session when `tokenIn` is set: completions through the model's client, rendering through it
 * or through a client of `tokenIn.tokenizeBaseUrl` (the options check made sure the methods exist). What the
 * session learns about the template is shared with every model that renders at the same server and model.
 */
function createTokenInSession(
  config: VLLMModelConfig & { modelId: string },
  client: TokenStreamingClient,
  tokenizeApiKey: string,
): TokenInSession | undefined {
  const tokenIn = config.tokenIn
  if (tokenIn === undefined || tokenIn === false) return undefined
  const completions = client.completions!
  const complete: CompleteFunction = (request, streaming, options) =>
    streaming ? completions.stream(request, options) : completions.createEvents!(request, options)
  const tokenizeBaseUrl = tokenIn === true ? undefined : tokenIn.tokenizeBaseUrl
  if (tokenizeBaseUrl === undefined) {
    const key = client instanceof VLLMClient ? `${client.baseUrl} ${config.modelId}` : undefined
    const renderer = new TemplateRenderer(
      (input, options) => client.tokenize!(input, options),
      templateCacheFor(key),
    )
    return new TokenInSession(renderer, complete)
  }
  // the rendering server is reached directly, with its own key (never the model's: that may be a gateway's)
  // and its own model name, or none
  const renderClient = new VLLMClient({ baseUrl: tokenizeBaseUrl, apiKey: tokenizeApiKey })
  const renderModel = tokenIn === true ? undefined : tokenIn.tokenizeModelId
  const tokenize: TokenizeFunction = ({ model: _model, ...input }, options) =>
    renderClient.tokenize(renderModel === undefined ? input : { ...input, model: renderModel }, options)
  const cache = templateCacheFor(`${renderClient.baseUrl} ${renderModel ?? ''}`)
  return new TokenInSession(new TemplateRenderer(tokenize, cache), complete)
}
