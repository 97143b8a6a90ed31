import { type OptionReader, OptionReader as Reader } from '@vllm-tito/spec'

/** Options of `checkToolInput` and `createToolInputValidator`. Every limit bounds time and memory. */
export interface ToolInputCheckOptions {
  /**
   * Validate the whole input against the JSON Schema with ajv (types, enums, nested objects, formats, ...).
   * `false` keeps only `strands-vllm`'s checks (JSON, object, required, unknown). Default `true`.
   */
  fullSchemaValidation?: boolean
  /**
   * Longest accepted input, in characters: the length of a JSON string input, or for a parsed input one per
   * value plus the length of every string and of every key (plus one). Default `1_000_000`.
   */
  maxInputCharacters?: number
  /** Deepest accepted nesting of objects and arrays (the input object itself is level 1). Default `64`. */
  maxDepth?: number
  /** How many schema violations the `invalid argument(s)` error lists before `... (+N more)`. Default `10`. */
  maxViolationsInError?: number
  /** Longest text of one listed violation, in characters. Default `200`. */
  maxViolationCharacters?: number
}

/** {@link ToolInputCheckOptions} with every default filled in and checked. */
export type ResolvedToolInputCheckOptions = Readonly<Required<ToolInputCheckOptions>>

/** The defaults of {@link ToolInputCheckOptions}. */
export const DEFAULT_TOOL_INPUT_CHECK_OPTIONS: ResolvedToolInputCheckOptions = Object.freeze({
  fullSchemaValidation: true,
  maxInputCharacters: 1_000_000,
  maxDepth: 64,
  maxViolationsInError: 10,
  maxViolationCharacters: 200,
})

/** The names of {@link ToolInputCheckOptions}. */
export const TOOL_INPUT_CHECK_OPTION_NAMES: readonly string[] = Object.keys(DEFAULT_TOOL_INPUT_CHECK_OPTIONS)

/** Reads the check options from `read` (whose unknown names the caller has refused), defaults filled in. */
export function readToolInputCheckOptions(read: OptionReader): ResolvedToolInputCheckOptions {
  const defaults = DEFAULT_TOOL_INPUT_CHECK_OPTIONS
  const limit = (name: keyof Omit<ToolInputCheckOptions, 'fullSchemaValidation'>) =>
    read.integer(name, { minimum: 1 }) ?? defaults[name]
  return Object.freeze({
    fullSchemaValidation: read.boolean('fullSchemaValidation') ?? defaults.fullSchemaValidation,
    maxInputCharacters: limit('maxInputCharacters'),
    maxDepth: limit('maxDepth'),
    maxViolationsInError: limit('maxViolationsInError'),
    maxViolationCharacters: limit('maxViolationCharacters'),
  })
}

/** Fills in defaults; throws `InvalidOptionError` naming the option for a bad or unknown one. */
export function resolveToolInputCheckOptions(
  where: string,
  options: ToolInputCheckOptions | undefined,
): ResolvedToolInputCheckOptions {
  if (options === undefined) return DEFAULT_TOOL_INPUT_CHECK_OPTIONS
  return readToolInputCheckOptions(new Reader(where, options).rejectUnknown(TOOL_INPUT_CHECK_OPTION_NAMES))
}
