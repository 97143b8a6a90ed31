import { describeValue, isPlainObject, OptionReader } from '@vllm-tito/spec'
import { validateFault } from './faults'
import type {
  ContextOverflowWording,
  MockFault,
  MockPolicy,
  MockVllmMode,
  MockVllmOptions,
  ToolStreamQuirk,
} from './mock-vllm-options'
import { isToolStreamQuirk, toolStreamQuirkNames } from './tool-stream-quirks'
import { mockVllmModes } from './version-profile'

/**
 * {@link MockVllmOptions} after checking, with every default filled in; each field is the option of the same
 * name (the `pacing` fields flattened), documented there.
 */
export interface ResolvedMockVllmOptions {
  /** `host`, default `127.0.0.1`. */
  host: string
  /** `port`, default 0 (a free port). */
  port: number
  /** `model`, default `Qwen/Qwen3-8B`. */
  model: string
  /** `maxModelLen`, default 40960. */
  maxModelLen: number
  /** `mode`, default `current`. */
  mode: MockVllmMode
  /** `policy`, default `'demo'`. */
  policy: MockPolicy
  /** `nonCanonicalRate` (0..1), default 0. */
  nonCanonicalRate: number
  /** `seed`, default 1. */
  seed: number
  /** `pacing.tokensPerChunk`, default 1. */
  tokensPerChunk: number
  /** `pacing.firstTokenDelayMs` (ms), default 0. */
  firstTokenDelayMs: number
  /** `pacing.interChunkDelayMs` (ms), default 0. */
  interChunkDelayMs: number
  /** `faults`, each checked, default none. */
  faults: MockFault[]
  /** `contextOverflowWording`, default `newest`. */
  contextOverflowWording: ContextOverflowWording
  /** `enableAutoToolChoice`, default true. */
  enableAutoToolChoice: boolean
  /** `reasoningParser`, default true. */
  reasoningParser: boolean
  /** `toolStreamQuirks`, default none. */
  toolStreamQuirks: ToolStreamQuirk[]
  /** `enableScaleOut`, default false. */
  enableScaleOut: boolean
}

const WHERE = 'startMockVllm'

const optionNames: readonly (keyof MockVllmOptions)[] = [
  'host',
  'port',
  'model',
  'maxModelLen',
  'mode',
  'policy',
  'nonCanonicalRate',
  'seed',
  'pacing',
  'faults',
  'contextOverflowWording',
  'enableAutoToolChoice',
  'reasoningParser',
  'toolStreamQuirks',
  'enableScaleOut',
]

/** Every {@link ContextOverflowWording}, newest first. */
export const contextOverflowWordings: readonly ContextOverflowWording[] = [
  'newest',
  'v0.16',
  'v0.10',
  'legacy',
]

/**
 * Checks the options of {@link startMockVllm} and fills in the defaults.
 *
 * @throws InvalidOptionError naming the option (a misspelt name names the closest known one).
 */
export function readMockVllmOptions(options: unknown): ResolvedMockVllmOptions {
  const read = new OptionReader(WHERE, options).rejectUnknown(optionNames)
  const pacing = readPacing(read.object('pacing'))
  const rate = read.finiteNumber('nonCanonicalRate') ?? 0
  if (rate < 0 || rate > 1)
    read.fail('nonCanonicalRate', `option \`nonCanonicalRate\` must be within 0..1, got ${rate}`)
  return {
    host: read.string('host', { nonEmpty: true }) ?? '127.0.0.1',
    port: read.integer('port', { maximum: 65_535 }) ?? 0,
    model: read.string('model', { nonEmpty: true }) ?? 'Qwen/Qwen3-8B',
    maxModelLen: read.integer('maxModelLen', { minimum: 1 }) ?? 40_960,
    mode: read.oneOf('mode', mockVllmModes) ?? 'current',
    policy: readPolicy(read),
    nonCanonicalRate: rate,
    seed: read.integer('seed') ?? 1,
    ...pacing,
    faults: readFaults(read),
    contextOverflowWording: read.oneOf('contextOverflowWording', contextOverflowWordings) ?? 'newest',
    enableAutoToolChoice: read.boolean('enableAutoToolChoice') ?? true,
    reasoningParser: read.boolean('reasoningParser') ?? true,
    toolStreamQuirks: readQuirks(read),
    enableScaleOut: read.boolean('enableScaleOut') ?? false,
  }
}

function readPacing(pacing: Record<string, unknown> | undefined) {
  const read = new OptionReader(`${WHERE} pacing`, pacing).rejectUnknown([
    'tokensPerChunk',
    'firstTokenDelayMs',
    'interChunkDelayMs',
  ])
  const delay = (name: string) => {
    const value = read.finiteNumber(name) ?? 0
    if (value < 0) read.fail(name, `option \`${name}\` must be a number of milliseconds >= 0, got ${value}`)
    return value
  }
  return {
    tokensPerChunk: read.integer('tokensPerChunk', { minimum: 1 }) ?? 1,
    firstTokenDelayMs: delay('firstTokenDelayMs'),
    interChunkDelayMs: delay('interChunkDelayMs'),
  }
}

function readFaults(read: OptionReader): MockFault[] {
  const faults = read.custom('faults', 'an array of faults', Array.isArray) ?? []
  return faults.map((fault: unknown, index: number) => validateFault(fault, `${WHERE} faults[${index}]`))
}

function readQuirks(read: OptionReader): ToolStreamQuirk[] {
  const quirks = read.custom('toolStreamQuirks', 'an array of quirk names', Array.isArray) ?? []
  for (const quirk of quirks as unknown[]) {
    if (!isToolStreamQuirk(quirk)) {
      read.fail(
        'toolStreamQuirks',
        `option \`toolStreamQuirks\` entries must be one of ${toolStreamQuirkNames.join(', ')}, got ${String(quirk)}`,
        toolStreamQuirkNames,
      )
    }
  }
  return quirks as ToolStreamQuirk[]
}

const isScriptEntry = (entry: unknown) => typeof entry === 'string' || typeof entry === 'function'

const policyShapes =
  "'demo', { random: { tokens } } or { script } (a non-empty array of strings and functions, or one function)"

/** `'demo'`, `{ random: { tokens } }` or `{ script }`, checked key by key. */
function readPolicy(read: OptionReader): MockPolicy {
  const policy = read.raw('policy')
  if (policy === undefined || policy === 'demo') return 'demo'
  if (!isPlainObject(policy)) {
    return read.fail('policy', `option \`policy\` must be ${policyShapes}, got ${describeValue(policy)}`)
  }
  const where = `${WHERE} policy`
  const readPolicyKeys = new OptionReader(where, policy).rejectUnknown(['random', 'script'])
  const random = readPolicyKeys.object('random')
  const script = readPolicyKeys.raw('script')
  if (random !== undefined && script === undefined) {
    new OptionReader(`${where}.random`, random)
      .rejectUnknown(['tokens'])
      .integer('tokens', { minimum: 1, required: true })
    return policy as MockPolicy
  }
  const validScript =
    typeof script === 'function' ||
    (Array.isArray(script) && script.length > 0 && script.every(isScriptEntry))
  if (random === undefined && validScript) return policy as MockPolicy
  return read.fail('policy', `option \`policy\` must be ${policyShapes}`)
}
