import { parseArgs } from 'node:util'
import { InvalidOptionError, OptionReader } from '@vllm-tito/spec'
import { validateFault } from './faults'
import type { MockFault, MockVllmOptions } from './mock-vllm-options'
import { contextOverflowWordings } from './read-mock-vllm-options'
import { isToolStreamQuirk, toolStreamQuirkNames } from './tool-stream-quirks'
import { mockVllmModes } from './version-profile'

/** Usage text of the `mock-vllm` command. */
export const cliUsage = `Usage: mock-vllm [options]

  --host <host>                      interface to listen on (default 127.0.0.1)
  --port <port>                      port (default 8000; 0 picks a free port)
  --model <name>                     served model name (default Qwen/Qwen3-8B)
  --max-model-len <n>                max_model_len (default 40960)
  --policy <demo|random>             the "model" (default demo)
  --random-tokens <n>                tokens per reply of the random policy (default 256)
  --reply <text>                     scripted reply (repeatable: a queue; the last one repeats)
  --mode <${mockVllmModes.join('|')}>
                                     vLLM generation to imitate (default current)
  --seed <n>                         seed of every random choice (default 1)
  --non-canonical-rate <0..1>        share of words split non-canonically (default 0)
  --tokens-per-chunk <n>             tokens per streamed chunk (default 1)
  --first-token-delay-ms <ms>        delay before the first chunk (default 0)
  --inter-chunk-delay-ms <ms>        delay between chunks (default 0)
  --context-overflow-wording <${contextOverflowWordings.join('|')}>
  --fault <json>                     a MockFault as JSON (repeatable)
  --tool-stream-quirk <arguments-in-finish-chunk|one-piece-arguments|drop-empty-arguments|required-name-null>
                                     a tool-call streaming quirk to imitate (repeatable)
  --enable-scale-out                 serve the render endpoints (/v1/chat/completions/render, /v1/completions/render)
  --no-parent-watch                  keep serving when the process that started mock-vllm exits (nohup, a
                                     process manager); by default it stops then, as on SIGINT, SIGTERM, SIGHUP
  --help                             print this text`

const WHERE = 'mock-vllm'

const flags = {
  host: { type: 'string' },
  port: { type: 'string' },
  model: { type: 'string' },
  'max-model-len': { type: 'string' },
  policy: { type: 'string' },
  'random-tokens': { type: 'string' },
  reply: { type: 'string', multiple: true },
  mode: { type: 'string' },
  seed: { type: 'string' },
  'non-canonical-rate': { type: 'string' },
  'tokens-per-chunk': { type: 'string' },
  'first-token-delay-ms': { type: 'string' },
  'inter-chunk-delay-ms': { type: 'string' },
  'context-overflow-wording': { type: 'string' },
  fault: { type: 'string', multiple: true },
  'tool-stream-quirk': { type: 'string', multiple: true },
  'enable-scale-out': { type: 'boolean' },
  // read by the command itself (see `watchesParent`), not a server option
  'no-parent-watch': { type: 'boolean' },
  help: { type: 'boolean' },
} as const

/**
 * Parses `mock-vllm` arguments into {@link MockVllmOptions}; `startMockVllm` checks the values' ranges.
 *
 * @throws InvalidOptionError naming the flag: an unknown flag (with the closest known one), a missing value,
 *   a number that is not one, an unknown policy, fault JSON that does not parse.
 */
export function parseCliArguments(argv: string[]): MockVllmOptions | 'help' {
  rejectUnknownFlags(argv)
  let values: Record<string, string | string[] | boolean | undefined>
  try {
    values = parseArgs({ args: argv, strict: true, options: flags }).values
  } catch (error) {
    throw new InvalidOptionError(WHERE, '(arguments)', (error as Error).message)
  }
  if (values.help) return 'help'
  const read = new OptionReader(WHERE, values)
  const number = (flag: string): number | undefined => {
    const text = read.string(flag)
    if (text === undefined) return undefined
    const value = Number(text)
    if (text.trim() === '' || !Number.isFinite(value))
      read.fail(`--${flag}`, `--${flag} must be a number, got ${text}`)
    return value
  }
  const replies = values.reply as string[] | undefined
  const policyName = read.string('policy') ?? (replies ? 'script' : 'demo')
  let policy: MockVllmOptions['policy']
  if (replies) policy = { script: replies }
  else if (policyName === 'demo') policy = 'demo'
  else if (policyName === 'random') policy = { random: { tokens: number('random-tokens') ?? 256 } }
  else
    read.fail('--policy', `--policy must be demo or random (or give --reply), got ${policyName}`, [
      'demo',
      'random',
    ])
  const faults: MockFault[] = ((values.fault as string[] | undefined) ?? []).map((text, index) => {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      return read.fail('--fault', `--fault #${index + 1} is not valid JSON: ${text}`)
    }
    return validateFault(parsed, `--fault #${index + 1}`)
  })
  const toolStreamQuirks = ((values['tool-stream-quirk'] as string[] | undefined) ?? []).map((quirk) => {
    if (isToolStreamQuirk(quirk)) return quirk
    return read.fail(
      '--tool-stream-quirk',
      `--tool-stream-quirk must be one of ${toolStreamQuirkNames.join(', ')}, got ${quirk}`,
      toolStreamQuirkNames,
    )
  })
  return {
    host: read.string('host') ?? '127.0.0.1',
    port: number('port') ?? 8000,
    model: read.string('model'),
    maxModelLen: number('max-model-len'),
    policy,
    mode: read.oneOf('mode', mockVllmModes),
    seed: number('seed'),
    nonCanonicalRate: number('non-canonical-rate'),
    pacing: {
      tokensPerChunk: number('tokens-per-chunk'),
      firstTokenDelayMs: number('first-token-delay-ms'),
      interChunkDelayMs: number('inter-chunk-delay-ms'),
    },
    contextOverflowWording: read.oneOf('context-overflow-wording', contextOverflowWordings),
    faults,
    ...(toolStreamQuirks.length > 0 ? { toolStreamQuirks } : {}),
    ...(values['enable-scale-out'] === true ? { enableScaleOut: true } : {}),
  }
}

/** Whether the command should stop when its parent exits: unless `--no-parent-watch` is given. */
export function watchesParent(argv: readonly string[]): boolean {
  return !argv.includes('--no-parent-watch')
}

/** Refuses a flag that does not exist, naming the closest known one (`--mdoe` → `--mode`). */
function rejectUnknownFlags(argv: string[]): void {
  const known = Object.keys(flags).map((name) => `--${name}`)
  const given = argv
    .filter((argument) => argument.startsWith('--'))
    .map((argument) => argument.split('=')[0]!)
  new OptionReader(WHERE, Object.fromEntries(given.map((flag) => [flag, true]))).rejectUnknown(known)
}
