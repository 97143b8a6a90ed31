import { describeValue, isPlainObject, OptionReader, type TokenStreamingClient } from '@vllm-tito/spec'
import type { VLLMModelConfig, VLLMModelOptions } from './vllm-model-config'

/** The config keys of {@link VLLMModelConfig}: this package's own and the Strands `BaseModelConfig` ones. */
const CONFIG_KEYS = [
  'baseUrl',
  'modelId',
  'returnTokenIds',
  'disableTools',
  'stream',
  'params',
  'maxTokens',
  'temperature',
  'topP',
  'contextWindowLimit',
  'tokenIn',
]

/** A config whose `modelId` is known to be set. */
export type CheckedModelConfig = VLLMModelConfig & { modelId: string }

/** Reads `new VLLMModel(options)`: the API key, the client and the config, each checked. */
export function readModelOptions(options: VLLMModelOptions): {
  apiKey: string
  tokenizeApiKey: string
  client: TokenStreamingClient | undefined
  config: CheckedModelConfig
} {
  const where = 'new VLLMModel'
  const read = new OptionReader(where, options).rejectUnknown([
    ...CONFIG_KEYS,
    'apiKey',
    'tokenizeApiKey',
    'client',
  ])
  const apiKey = read.string('apiKey', { nonEmpty: true }) ?? 'EMPTY'
  const tokenizeApiKey = read.string('tokenizeApiKey', { nonEmpty: true }) ?? 'EMPTY'
  const client = read.custom(
    'client',
    'a TokenStreamingClient (an object with chat.stream)',
    isTokenStreamingClient,
  )
  const { apiKey: _key, tokenizeApiKey: _tokenizeKey, client: _client, ...config } = options
  return { apiKey, tokenizeApiKey, client, config: readModelConfig(where, config, client) }
}

/**
 * Checks a model config (`client`: the client that was passed, so `baseUrl` is not needed; `undefined` for
 * the default `VLLMClient`) and returns it as given. Throws `InvalidOptionError` naming the first problem.
 */
export function readModelConfig(
  where: string,
  config: VLLMModelConfig,
  client: TokenStreamingClient | undefined,
): CheckedModelConfig {
  const read = new OptionReader(where, config).rejectUnknown(CONFIG_KEYS)
  const modelId = read.string('modelId', { nonEmpty: true })
  if (modelId === undefined) {
    return read.fail(
      'modelId',
      'VLLMModel needs `modelId`: the model name the vLLM server serves, e.g. Qwen/Qwen3-8B',
    )
  }
  const baseUrl = read.string('baseUrl', { nonEmpty: true })
  if (client === undefined && baseUrl === undefined) {
    read.fail(
      'baseUrl',
      'VLLMModel needs `baseUrl` (e.g. http://localhost:8000/v1) unless a `client` is passed',
    )
  }
  read.boolean('returnTokenIds')
  read.boolean('disableTools')
  const tokenIn = config.tokenIn !== undefined && config.tokenIn !== false
  // token-in mode calls completions, not chat: its own check covers `stream: false`
  if (
    read.boolean('stream') === false &&
    client !== undefined &&
    !tokenIn &&
    client.chat.createEvents === undefined
  ) {
    read.fail(
      'stream',
      '`stream: false` needs a client with chat.createEvents (a VLLMClient has it); the given client can only stream',
    )
  }
  readTokenIn(where, read, config, client)
  read.integer('maxTokens', { minimum: 1 })
  read.finiteNumber('temperature')
  read.finiteNumber('topP')
  read.integer('contextWindowLimit', { minimum: 1 })
  const params = read.object('params')
  if (params?.extra_body !== undefined && !isPlainObject(params.extra_body)) {
    read.fail(
      'params.extra_body',
      '`params.extra_body` must be an object; its fields are merged into the request',
    )
  }
  return { ...config, modelId }
}

/**
 * Checks `tokenIn`: `true`, `false` or `{ tokenizeBaseUrl? }`; refused with `returnTokenIds: false` (the mode
 * lives on the ids) and with a passed client that lacks what the mode calls.
 */
function readTokenIn(
  where: string,
  read: OptionReader,
  config: VLLMModelConfig,
  client: TokenStreamingClient | undefined,
): void {
  const tokenIn = read.raw('tokenIn')
  if (tokenIn === undefined || tokenIn === false) return
  if (tokenIn !== true && !isPlainObject(tokenIn)) {
    read.fail(
      'tokenIn',
      `option \`tokenIn\` must be \`true\`, \`false\` or an object, got ${describeValue(tokenIn)}`,
    )
  }
  const options = new OptionReader(`${where} tokenIn`, tokenIn === true ? {} : tokenIn)
  options.rejectUnknown(['tokenizeBaseUrl', 'tokenizeModelId']).string('tokenizeBaseUrl', { nonEmpty: true })
  options.string('tokenizeModelId', { nonEmpty: true })
  if (options.raw('tokenizeModelId') !== undefined && options.raw('tokenizeBaseUrl') === undefined) {
    options.fail(
      'tokenizeModelId',
      '`tokenizeModelId` names the model of the `tokenizeBaseUrl` server; set that too',
    )
  }
  if (config.returnTokenIds === false) {
    read.fail(
      'returnTokenIds',
      '`returnTokenIds: false` cannot go with `tokenIn`: token-in mode keeps the ids',
    )
  }
  if (client === undefined) return
  const completions = client.completions
  if (typeof completions?.stream !== 'function') {
    read.fail(
      'tokenIn',
      '`tokenIn` needs a client with completions.stream (a VLLMClient has it); the given client has none',
    )
  }
  if (config.stream === false && typeof completions.createEvents !== 'function') {
    read.fail(
      'stream',
      '`stream: false` with `tokenIn` needs a client with completions.createEvents (a VLLMClient has it)',
    )
  }
  const tokenizeBaseUrl = tokenIn === true ? undefined : tokenIn.tokenizeBaseUrl
  if (tokenizeBaseUrl === undefined && typeof client.tokenize !== 'function') {
    read.fail(
      'tokenIn',
      '`tokenIn` needs a client with tokenize, or `tokenIn.tokenizeBaseUrl` naming the vLLM server to render with',
    )
  }
}

function isTokenStreamingClient(value: unknown): value is TokenStreamingClient {
  if (typeof value !== 'object' || value === null) return false
  const chat = (value as { chat?: unknown }).chat
  return (
    typeof chat === 'object' && chat !== null && typeof (chat as { stream?: unknown }).stream === 'function'
  )
}
