import { VLLMClient } from '@vllm-tito/client'
import { startMockVllm } from '@vllm-tito/mock-vllm'
import { InvalidOptionError } from '@vllm-tito/spec'

/** The model the embedded mock serves (its tokenizer and chat template are Qwen3's). */
export const EMBEDDED_MODEL_ID = 'Qwen/Qwen3-8B'

/** The model server a command talks to: a real one, or the embedded mock started for the command. */
export interface ModelServer {
  /** Root URL, without `/v1`. */
  baseUrl: string
  /** The model to request. */
  modelId: string
  /** `true` for the embedded mock-vllm. */
  embedded: boolean
  /** One line naming the server. */
  description: string
  /** Stops the embedded mock (nothing for a real server). */
  close(): Promise<void>
}

/**
 * With `baseUrl`: that server (checked with `/health`), and `modelId` or else the first model of `/v1/models`.
 * Without: mock-vllm in this process on a free loopback port, with its demo policy (it solves calculator tasks).
 *
 * @throws InvalidOptionError (`--base-url`, `--model`) when the server does not answer or names no model.
 */
export async function connectModelServer(options: {
  baseUrl: string | undefined
  modelId: string | undefined
  apiKey: string | undefined
  where: string
  /** The embedded mock's delay before each answer, ms (to try timeouts and saturation). Default 0. */
  embeddedDelayMs?: number
}): Promise<ModelServer> {
  const { where } = options
  if (options.baseUrl === undefined) {
    const modelId = options.modelId ?? EMBEDDED_MODEL_ID
    const server = await startMockVllm({
      model: modelId,
      policy: 'demo',
      pacing: { firstTokenDelayMs: options.embeddedDelayMs ?? 0 },
    })
    return {
      baseUrl: server.baseUrl,
      modelId,
      embedded: true,
      description: `embedded mock-vllm at ${server.baseUrl}, model ${modelId} (pass --base-url for a real vLLM server)`,
      close: () => server.close(),
    }
  }
  let client: VLLMClient
  try {
    client = new VLLMClient({ baseUrl: options.baseUrl, apiKey: options.apiKey, maxRetries: 0 })
  } catch (error) {
    throw new InvalidOptionError(where, '--base-url', (error as Error).message)
  }
  if (!(await client.health({ signal: AbortSignal.timeout(10_000) }).catch(() => false))) {
    throw new InvalidOptionError(
      where,
      '--base-url',
      `the model server at ${client.baseUrl} does not answer GET /health with 200`,
    )
  }
  const modelId = options.modelId ?? (await firstModel(client, where))
  return {
    baseUrl: client.baseUrl,
    modelId,
    embedded: false,
    description: `model server at ${client.baseUrl}, model ${modelId}`,
    close: async () => {},
  }
}

async function firstModel(client: VLLMClient, where: string): Promise<string> {
  const models = await client.models({ signal: AbortSignal.timeout(10_000) }).catch(() => [])
  const first = models[0]?.id
  if (first === undefined) {
    throw new InvalidOptionError(where, '--model', `${client.baseUrl}/v1/models names no model; pass --model`)
  }
  return first
}
