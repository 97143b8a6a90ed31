/**
 * How a tool call whose arguments are not valid JSON travels through an agent framework without aborting
 * it: the raw text is wrapped in a one-key object. The provider wraps (`VLLMModel`), the validation hooks
 * answer "tool input is not valid JSON", and the message formatter sends the raw text back verbatim, so the
 * model's own mistake stays in the trajectory exactly as it was sampled.
 */

/** The one key of the wrapper object. */
export const INVALID_JSON_ARGUMENTS_KEY = '__vllm_invalid_json_arguments__'

/** The wrapper for raw arguments text that did not parse. */
export function wrapInvalidJsonArguments(rawArguments: string): { [INVALID_JSON_ARGUMENTS_KEY]: string } {
  return { [INVALID_JSON_ARGUMENTS_KEY]: rawArguments }
}

/** The raw arguments text when `input` is the wrapper (exactly one key, a string value), else `undefined`. */
export function unwrapInvalidJsonArguments(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return undefined
  const keys = Object.keys(input)
  if (keys.length !== 1 || keys[0] !== INVALID_JSON_ARGUMENTS_KEY) return undefined
  const raw = (input as Record<string, unknown>)[INVALID_JSON_ARGUMENTS_KEY]
  return typeof raw === 'string' ? raw : undefined
}
