import { parseArgs } from 'node:util'
import { validateFault } from './faults'
import type { ContextOverflowWording, MockFault, MockVllmMode, MockVllmOptions } from './mock-vllm-options'
import { isToolStreamQuirk, toolStreamQuirkNames } from './tool-stream-quirks'

/** Usage text of the `mock-vllm` command. */
export const cliUsage = `Usage: mock-vllm [options]

  --host <host>                      interface to listen on (default 127.0.0.1)
  --port <port>                      port (default 8000; 0 picks a free port)
  --model <name>                     served model name (default Qwen/Qwen3-8B)
  --max-model-len <n>                max_model_len (default 40960)
  --policy <demo|random>             the "model" (default demo)
  --random-tokens <n>                tokens per reply of the random policy (default 256)
  --reply <text>                     scripted reply (repeatable: a queue; the last one repeats)
  --mode <current|legacy-0.10|pre-0.10.2>  vLLM generation to imitate (default current)
  --seed <n>                         seed of every random choice (default 1)
  --non-canonical-rate <0..1>        share of words split non-canonically (default 0)
  --tokens-per-chunk <n>             tokens per streamed chunk (default 1)
  --first-token-delay-ms <ms>        delay before the first chunk (default 0)
  --inter-chunk-delay-ms <ms>        delay between chunks (default 0)
  --context-overflow-wording <newest|v0.16|v0.10|legacy>
  --fault <json>                     a MockFault as JSON (repeatable)
  --tool-stream-quirk <arguments-in-finish-chunk|one-piece-arguments|drop-empty-arguments|required-name-null>
                                     a tool-call streaming quirk to imitate (repeatable)
  --help                             print this text`

/** Parses `mock-vllm` arguments into {@link MockVllmOptions}; throws a TypeError naming a bad flag. */
export function parseCliArguments(argv: string[]): MockVllmOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
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
      help: { type: 'boolean' },
    },
  })
  if (values.help) return 'help'
  const number = (flag: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined
    const value = Number(text)
    if (!Number.isFinite(value)) throw new TypeError(`--${flag} must be a number, got ${text}`)
    return value
  }
  const policyName = values.policy ?? (values.reply ? 'script' : 'demo')
  let policy: MockVllmOptions['policy']
  if (values.reply) policy = { script: values.reply }
  else if (policyName === 'demo') policy = 'demo'
  else if (policyName === 'random')
    policy = { random: { tokens: number('random-tokens', values['random-tokens']) ?? 256 } }
  else throw new TypeError(`--policy must be demo or random (or give --reply), got ${policyName}`)
  const faults: MockFault[] = (values.fault ?? []).map((text, index) => {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      throw new TypeError(`--fault #${index + 1} is not valid JSON: ${text}`)
    }
    return validateFault(parsed, `--fault #${index + 1}`)
  })
  const toolStreamQuirks = (values['tool-stream-quirk'] ?? []).map((quirk) => {
    if (!isToolStreamQuirk(quirk)) {
      throw new TypeError(
        `--tool-stream-quirk must be one of ${toolStreamQuirkNames.join(', ')}, got ${quirk}`,
      )
    }
    return quirk
  })
  return {
    host: values.host ?? '127.0.0.1',
    port: number('port', values.port) ?? 8000,
    model: values.model,
    maxModelLen: number('max-model-len', values['max-model-len']),
    policy,
    mode: values.mode as MockVllmMode | undefined,
    seed: number('seed', values.seed),
    nonCanonicalRate: number('non-canonical-rate', values['non-canonical-rate']),
    pacing: {
      tokensPerChunk: number('tokens-per-chunk', values['tokens-per-chunk']),
      firstTokenDelayMs: number('first-token-delay-ms', values['first-token-delay-ms']),
      interChunkDelayMs: number('inter-chunk-delay-ms', values['inter-chunk-delay-ms']),
    },
    contextOverflowWording: values['context-overflow-wording'] as ContextOverflowWording | undefined,
    faults,
    ...(toolStreamQuirks.length > 0 ? { toolStreamQuirks } : {}),
  }
}
