// the validation hooks recognise this wrapper and answer `tool input is not valid JSON`
import { wrapInvalidJsonArguments } from '@vllm-tito/spec'

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
  const wrapped = JSON.stringify(wrapInvalidJsonArguments(rawArguments))
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
