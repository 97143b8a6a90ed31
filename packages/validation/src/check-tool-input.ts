import { isPlainObject, unwrapInvalidJsonArguments } from '@vllm-tito/spec'
import { type CompiledToolSchema, getCompiledToolSchema, type ToolInputSchema } from './compile-tool-schema'
import { formatSchemaViolations } from './format-schema-violations'
import {
  type ResolvedToolInputCheckOptions,
  resolveToolInputCheckOptions,
  type ToolInputCheckOptions,
} from './tool-input-check-options'
import type { ToolInputProblem, ToolInputProblemKind } from './tool-input-problem'

function problem(kind: ToolInputProblemKind, toolName: string, detail: string): ToolInputProblem {
  return { kind, message: `Error: tool_name=<${toolName}> | ${detail}` }
}

/**
 * Walks the input without recursion (so 10,000 levels cannot overflow the stack) and stops at the first limit
 * it crosses. Cycles in hand-built inputs end at the depth limit.
 *
 * Size is a lower bound of the input's JSON text: one character per value (even `""` or `{}`), plus the
 * length of each string, plus the length of each key and one more for it. Why a value is counted when it is
 * queued, before its container is walked: a huge array is refused at once, without first filling the queue
 * with millions of entries.
 */
function measure(input: Record<string, unknown>, maxDepth: number, maxCharacters: number) {
  let characters = 1
  const pending: Array<{ value: unknown; depth: number }> = [{ value: input, depth: 1 }]
  while (pending.length > 0) {
    const { value, depth } = pending.pop()!
    if (typeof value === 'string') {
      characters += value.length
    } else if (typeof value === 'object' && value !== null) {
      if (depth > maxDepth) return 'too-deep'
      if (Array.isArray(value)) {
        characters += value.length
        if (characters > maxCharacters) return 'too-large'
        for (const item of value) pending.push({ value: item, depth: depth + 1 })
      } else {
        const keys = Object.keys(value)
        for (const key of keys) characters += key.length + 2
        if (characters > maxCharacters) return 'too-large'
        for (const key of keys)
          pending.push({ value: (value as Record<string, unknown>)[key], depth: depth + 1 })
      }
    }
    if (characters > maxCharacters) return 'too-large'
  }
  return null
}

/** The outcome of a check: the problem, or `null` with the input as an object (a JSON string parsed). */
export type ToolInputInspection =
  | { readonly problem: ToolInputProblem; readonly input?: undefined }
  | { readonly problem: null; readonly input: Record<string, unknown> }

function rejected(kind: ToolInputProblemKind, toolName: string, detail: string): ToolInputInspection {
  return { problem: problem(kind, toolName, detail) }
}

function parseJsonText(
  toolName: string,
  text: string,
  options: ResolvedToolInputCheckOptions,
): { value: unknown } | ToolInputInspection {
  if (text.length > options.maxInputCharacters) {
    return rejected(
      'too-large',
      toolName,
      `tool input is too large (limit ${options.maxInputCharacters} characters)`,
    )
  }
  try {
    return { value: JSON.parse(text) }
  } catch {
    return rejected('invalid-json', toolName, 'tool input is not valid JSON')
  }
}

/**
 * Checks a tool input against an already compiled schema (the cache-free core of {@link checkToolInput}) and
 * returns the input as an object when it is valid. The checks run in strands-vllm's order: JSON, object, size and
 * depth, missing required, unknown arguments, then the full schema.
 */
export function inspectToolInput(
  toolName: string,
  input: unknown,
  compiled: CompiledToolSchema | null,
  options: ResolvedToolInputCheckOptions,
): ToolInputInspection {
  // the provider's wrapper carries the raw argument text: it is checked like a JSON string input, so text that
  // does not parse gets "not valid JSON" (as in strands-vllm), and text the provider refused for its size or
  // depth gets the matching limit error
  let value = unwrapInvalidJsonArguments(input) ?? input
  if (typeof value === 'string') {
    const parsed = parseJsonText(toolName, value, options)
    if (!('value' in parsed)) return parsed
    value = parsed.value
  }
  // strands-vllm reads a missing (None) input as an empty object, so required arguments are reported by name
  if (value === null || value === undefined) value = {}
  if (!isPlainObject(value)) return rejected('not-an-object', toolName, 'tool input must be an object')

  const limitCrossed = measure(value, options.maxDepth, options.maxInputCharacters)
  if (limitCrossed === 'too-deep') {
    return rejected(
      'too-deep',
      toolName,
      `tool input is nested too deeply (limit ${options.maxDepth} levels)`,
    )
  }
  if (limitCrossed === 'too-large') {
    return rejected(
      'too-large',
      toolName,
      `tool input is too large (limit ${options.maxInputCharacters} characters)`,
    )
  }
  if (compiled === null) return { problem: null, input: value }

  // Object.hasOwn, never `in`: `constructor` or `__proto__` must not count as present or declared
  const object = value
  const missing = compiled.requiredArguments.filter((name) => !Object.hasOwn(object, name))
  if (missing.length > 0) {
    return rejected('missing-arguments', toolName, `missing required argument(s): ${missing.join(', ')}`)
  }
  const known = compiled.knownArguments
  if (known !== null) {
    const unknown = Object.keys(object).filter(
      (key) => !known.names.has(key) && !known.patterns.some((pattern) => pattern.test(key)),
    )
    if (unknown.length > 0) {
      // sorted, as strands-vllm's `sorted(map(str, unknown))`
      return rejected('unknown-arguments', toolName, `unknown argument(s): ${unknown.sort().join(', ')}`)
    }
  }
  if (compiled.validate === null || !options.fullSchemaValidation) return { problem: null, input: object }
  const violations = compiled.validate(object)
  if (violations.length === 0) return { problem: null, input: object }
  const list = formatSchemaViolations(violations, {
    maxViolations: options.maxViolationsInError,
    maxViolationCharacters: options.maxViolationCharacters,
  })
  return rejected('invalid-arguments', toolName, `invalid argument(s): ${list}`)
}

/**
 * Checks one tool call's input and says what is wrong, or `null` when it is valid. `input` may be a parsed
 * value or a JSON string (parsed here, within `maxInputCharacters`); the provider's invalid-JSON wrapper
 * (`{ [INVALID_JSON_ARGUMENTS_KEY]: raw }`) is checked like a JSON string input, so malformed text gets
 * `tool input is not valid JSON`. Without a schema only the JSON,
 * object and size checks run. The compiled validator is cached per schema object.
 *
 * The problem's `message` is the error text to return to the model, as `strands-vllm` words it:
 * `Error: tool_name=<calculator> | missing required argument(s): expression`, `... | unknown argument(s): x`,
 * `... | tool input is not valid JSON`, `... | tool input must be an object`, and for other schema violations
 * `Error: tool_name=<x> | invalid argument(s): unit: must be one of "c", "f"`.
 *
 * @throws {InvalidToolSchemaError} when the schema does not compile (the tool author's mistake, not the model's)
 * @throws {InvalidOptionError} (from `@vllm-tito/spec`) for a bad or misspelt option
 */
export function checkToolInput(
  toolName: string,
  input: unknown,
  schema: ToolInputSchema | undefined,
  options?: ToolInputCheckOptions,
): ToolInputProblem | null {
  const resolved = resolveToolInputCheckOptions('checkToolInput', options)
  const compiled =
    schema === undefined
      ? null
      : getCompiledToolSchema(toolName, schema, { fullSchemaValidation: resolved.fullSchemaValidation })
  return inspectToolInput(toolName, input, compiled, resolved).problem
}
