import { type MockVllmOptions, startMockVllm } from '@vllm-tito/mock-vllm'

/** The model the embedded mock serves (its tokenizer and chat template are Qwen3's). */
export const EMBEDDED_MODEL_ID = 'Qwen/Qwen3-8B'

/** Where an example sends its requests: a real vLLM server, or the embedded mock started for it. */
export interface TargetServer {
  /** Server root, without `/v1`. */
  baseUrl: string
  /** Model id to request. */
  modelId: string
  /** `true` when this is the embedded mock-vllm. */
  embedded: boolean
  /** One line naming the server, for the example's header. */
  description: string
  /** Stops the embedded mock (no-op for a real server). */
  close(): Promise<void>
}

/** Raised when a configured real server cannot be reached; the message carries strands-vllm's troubleshooting hint. */
export class ServerUnreachableError extends Error {
  override readonly name = 'ServerUnreachableError'
}

/** Raised when the environment names a server only half (`VLLM_MODEL_ID` without `VLLM_BASE_URL`). */
export class TargetConfigurationError extends Error {
  override readonly name = 'TargetConfigurationError'
}

/**
 * Uses the real server named by `VLLM_BASE_URL` (after checking its `/health`) with the model `VLLM_MODEL_ID`
 * (or, when that is unset, the first model the server lists); otherwise starts mock-vllm in-process on a free
 * loopback port: the embedded default. `mockOptions` apply to the embedded mock only — a real model is not
 * scripted.
 *
 * @throws ServerUnreachableError when the configured server does not answer `/health` with 200.
 * @throws TargetConfigurationError when only `VLLM_MODEL_ID` is set.
 */
export async function connectTargetServer(
  mockOptions: MockVllmOptions = {},
  environment: NodeJS.ProcessEnv = process.env,
): Promise<TargetServer> {
  const configuredBaseUrl = environment.VLLM_BASE_URL?.trim()
  const configuredModelId = environment.VLLM_MODEL_ID?.trim()
  if (configuredBaseUrl) {
    // strands-vllm's examples take `http://localhost:8000/v1`; the root is what every client here wants
    const baseUrl = configuredBaseUrl.replace(/\/+$/, '').replace(/\/v1$/, '')
    await checkHealth(baseUrl)
    const modelId = configuredModelId || (await firstServedModel(baseUrl))
    return {
      baseUrl,
      modelId,
      embedded: false,
      description: `vLLM at ${baseUrl}, model ${modelId}`,
      close: async () => {},
    }
  }
  if (configuredModelId) {
    throw new TargetConfigurationError(
      'VLLM_MODEL_ID is set but VLLM_BASE_URL is not; set both to use a real vLLM server, or neither to use the embedded mock',
    )
  }
  const modelId = mockOptions.model ?? EMBEDDED_MODEL_ID
  const server = await startMockVllm({ ...mockOptions, model: modelId })
  return {
    baseUrl: server.baseUrl,
    modelId,
    embedded: true,
    description: `embedded mock-vllm at ${server.baseUrl}, model ${modelId} (set VLLM_BASE_URL and VLLM_MODEL_ID for a real vLLM)`,
    close: () => server.close(),
  }
}

function troubleshootingHint(baseUrl: string): string {
  return [
    `  check that vLLM is running: curl ${baseUrl}/health`,
    '  start it with: vllm serve <MODEL_ID> --enable-auto-tool-choice --tool-call-parser hermes',
    '  or unset VLLM_BASE_URL and VLLM_MODEL_ID to use the embedded mock server',
  ].join('\n')
}

async function checkHealth(baseUrl: string): Promise<void> {
  let response: Response
  try {
    response = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(5_000) })
  } catch (error) {
    throw new ServerUnreachableError(
      `cannot reach the vLLM server at ${baseUrl} (${describeFetchFailure(error)})\n${troubleshootingHint(baseUrl)}`,
    )
  }
  await response.body?.cancel()
  if (!response.ok) {
    throw new ServerUnreachableError(
      `vLLM at ${baseUrl} answered /health with HTTP ${response.status}\n${troubleshootingHint(baseUrl)}`,
    )
  }
}

async function firstServedModel(baseUrl: string): Promise<string> {
  const response = await fetch(`${baseUrl}/v1/models`, { signal: AbortSignal.timeout(5_000) })
  const body = (await response.json().catch(() => null)) as { data?: Array<{ id?: unknown }> } | null
  const modelId = body?.data?.[0]?.id
  if (!response.ok || typeof modelId !== 'string') {
    throw new TargetConfigurationError(
      `VLLM_MODEL_ID is not set and ${baseUrl}/v1/models (HTTP ${response.status}) names no model; set VLLM_MODEL_ID`,
    )
  }
  return modelId
}

/** fetch puts the socket error (`ECONNREFUSED`, a DNS failure) in `cause`; the timeout is an `AbortError`. */
function describeFetchFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'no answer within 5 s'
  const cause = error.cause
  if (cause instanceof Error) return cause.message || ((cause as NodeJS.ErrnoException).code ?? cause.name)
  return error.message
}

/** Runs an example's main function: prints a clear message and exits non-zero on failure. */
export function runExample(main: () => Promise<void>): void {
  // `pnpm demo | head` closes stdout early: stop quietly instead of crashing on EPIPE
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0)
    throw error
  })
  main().then(
    () => {},
    (error: unknown) => {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
      console.error(`error: ${message}`)
      process.exitCode = 1
    },
  )
}
