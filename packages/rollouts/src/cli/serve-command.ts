import { MAX_TIMEOUT_MS } from '../run-options'
import { startRolloutService } from '../service/rollout-service'
import { connectModelServer, type ModelServer } from './connect-model-server'
import { FlagReader } from './flag-reader'
import { loadAgentModule } from './load-agent-module'
import type { CommandIo } from './rollouts-command'
import { RUNNER_FLAGS, RUNNER_FLAGS_USAGE, readRunnerFlags } from './runner-flags'

const WHERE = 'vllm-tito serve'

const FLAGS = {
  ...RUNNER_FLAGS,
  host: { type: 'string' },
  port: { type: 'string' },
  'max-pending': { type: 'string' },
  'retry-after': { type: 'string' },
  'embedded-mock': { type: 'boolean' },
  'embedded-mock-delay': { type: 'string' },
  'grace-period': { type: 'string' },
} as const

/** `vllm-tito serve --help`. */
export const SERVE_USAGE = `usage: vllm-tito serve [options]

The rollout service: trainers POST /v1/rollouts with a task, sampling parameters, the vLLM server they serve
and a group size, and get the group's rows in their format (docs/rollout-service.md). GET /health is the
liveness probe, GET /ready the readiness probe (503 when saturated or draining). SIGTERM drains.

  --host <address>            interface to listen on (default 127.0.0.1; 0.0.0.0 in a container)
  --port <n>                  port (default 8300; 0 for a free one)
  --max-pending <n>           rollouts admitted at once, across requests; more is a 429 (default 4 × concurrency)
  --retry-after <seconds>     the Retry-After of a 429 (default 1)
  --grace-period <seconds>    on SIGTERM, how long open requests may take to finish (default 30)
  --embedded-mock             start mock-vllm in this process and use it when a request names no base_url
  --embedded-mock-delay <ms>  the embedded mock's delay before each answer (to try timeouts and saturation)
${RUNNER_FLAGS_USAGE.replace('(default: the embedded mock-vllm, started in this process)', '(for requests without base_url)').replace("(default: the server's first model)", '(for requests without model)')}
`

/** Runs `vllm-tito serve` until SIGINT or SIGTERM; resolves with the exit code. */
export async function serveCommand(
  argv: readonly string[],
  io: CommandIo & { onTerminate(handler: () => void): () => void },
): Promise<number> {
  const flags = new FlagReader(WHERE, argv, FLAGS)
  if (flags.flag('help')) {
    io.stdout.write(SERVE_USAGE)
    return 0
  }
  const runner = readRunnerFlags(flags, 64)
  const embedded = flags.flag('embedded-mock')
  if (embedded && runner.baseUrl !== undefined)
    flags.fail('embedded-mock', '--embedded-mock and --base-url exclude each other')
  const host = flags.string('host') ?? '127.0.0.1'
  const port = flags.integer('port', 0, 65_535) ?? 8300
  const maxPending = flags.integer('max-pending', 1)
  const retryAfterSeconds = flags.integer('retry-after', 1, 3_600) ?? 1
  const graceMs = Math.ceil((flags.positiveNumber('grace-period', MAX_TIMEOUT_MS / 1000) ?? 30) * 1000)
  const agent = await loadAgentModule(runner.agentPath, WHERE)
  const embeddedDelayMs = flags.integer('embedded-mock-delay', 0, 3_600_000)
  if (embeddedDelayMs !== undefined && !embedded) {
    flags.fail('embedded-mock-delay', '--embedded-mock-delay needs --embedded-mock')
  }
  let mock: ModelServer | undefined
  if (embedded) {
    mock = await connectModelServer({
      baseUrl: undefined,
      modelId: runner.modelId,
      apiKey: undefined,
      where: WHERE,
      embeddedDelayMs: embeddedDelayMs ?? 0,
    })
  }
  const baseUrl = mock?.baseUrl ?? runner.baseUrl
  const modelId = mock?.modelId ?? runner.modelId
  // a service that cannot start (its port is taken) must not leave the embedded mock listening: it would keep
  // the process alive after the error was printed
  const service = await startRolloutService({
    rollout: agent.rollout,
    reward: agent.reward,
    ...(agent.firstRequest === undefined ? {} : { firstRequest: agent.firstRequest }),
    ...(baseUrl === undefined ? {} : { baseUrl }),
    ...(modelId === undefined ? {} : { modelId }),
    ...(io.env.VLLM_API_KEY ? { apiKey: io.env.VLLM_API_KEY } : {}),
    host,
    port,
    concurrency: runner.concurrency,
    ...(maxPending === undefined ? {} : { maxPending }),
    retryAfterSeconds,
    timeoutMs: runner.timeoutMs,
    retry: runner.retry,
    routing: runner.routing,
    stream: runner.stream,
    samplingParams: runner.samplingParams,
    log: (line) => io.stderr.write(`${new Date().toISOString()} ${line}\n`),
  }).catch(async (error: unknown) => {
    await mock?.close()
    throw error
  })
  if (mock) io.stdout.write(`embedded mock-vllm at ${mock.baseUrl}, model ${mock.modelId}\n`)
  io.stdout.write(`vllm-tito rollout service listening on ${service.url} (agent: ${agent.description})\n`)
  let stopListening = () => {}
  await new Promise<void>((resolve) => {
    const stopInterrupt = io.onInterrupt(resolve)
    const stopTerminate = io.onTerminate(resolve)
    stopListening = () => {
      stopInterrupt()
      stopTerminate()
    }
  })
  stopListening()
  io.stderr.write(`draining: waiting up to ${graceMs / 1000} s for ${service.pending} admitted rollouts\n`)
  await service.close({ graceMs })
  await mock?.close()
  io.stdout.write('vllm-tito rollout service stopped\n')
  return 0
}
