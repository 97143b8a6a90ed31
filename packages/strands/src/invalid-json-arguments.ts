import type { JSONValue } from '@strands-agents/sdk'
// the validation hooks recognise this wrapper and answer `tool input is not valid JSON`
import { INVALID_JSON_ARGUMENTS_KEY } from '@vllm-tito/validation'

/**
 * Deepest nesting handed to Strands as parsed JSON. The SDK deep-copies messages with
 * `JSON.parse(JSON.stringify(...))` on every model call, which overflows the stack on inputs thousands of
 * levels deep; deeper arguments travel as the wrapper, and the validation hooks answer "nested too deeply".
 */
export const MAX_PARSED_ARGUMENT_DEPTH = 1000

/**
 * Turns the raw arguments string the model produced into the JSON text handed to the Strands aggregator:
 * the raw string itself when it parses, `'{}'` when it is empty (hermes drops the arguments of parameterless
 * tools), otherwise the wrapper object, so the invocation never aborts on the model's own JSON mistake.
 */
export function toToolInputJson(rawArguments: string): string {
  if (rawArguments === '') return '{}'
  const wrapped = JSON.stringify({ [INVALID_JSON_ARGUMENTS_KEY]: rawArguments })
  if (nestingDepthExceeds(rawArguments, MAX_PARSED_ARGUMENT_DEPTH)) return wrapped
  try {
    JSON.parse(rawArguments)
    return rawArguments
  } catch {
    return wrapped
  }
}

/** Whether brackets outside string literals nest deeper than `limit` (one linear scan, no parsing). */
function nestingDepthExceeds(text: string, limit: number): boolean {
  let depth = 0
  let inString = false
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index)
    if (inString) {
      if (code === 0x5c)
        index += 1 // backslash: skip the escaped character
      else if (code === 0x22) inString = false
    } else if (code === 0x22) inString = true
    else if (code === 0x7b || code === 0x5b) {
      depth += 1
      if (depth > limit) return true
    } else if (code === 0x7d || code === 0x5d) depth -= 1
  }
  return false
}

/** The raw arguments string when `input` is the invalid-JSON wrapper, otherwise `undefined`. */
export function unwrapInvalidJsonArguments(input: JSONValue): string | undefined {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return undefined
  const keys = Object.keys(input)
  if (keys.length !== 1 || keys[0] !== INVALID_JSON_ARGUMENTS_KEY) return undefined
  const raw = input[INVALID_JSON_ARGUMENTS_KEY]
  return typeof raw === 'string' ? raw : undefined
}
