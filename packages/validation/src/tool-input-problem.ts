/**
 * Why a tool input was rejected.
 *
 * - `invalid-json`: a JSON string (or the provider's invalid-JSON wrapper) that does not parse.
 * - `not-an-object`: the input is an array, a number, a string, a boolean or `null`.
 * - `too-large`: the input is longer than `maxInputCharacters`.
 * - `too-deep`: objects and arrays are nested deeper than `maxDepth`.
 * - `missing-arguments`: a name in the schema's top-level `required` is absent.
 * - `unknown-arguments`: a top-level key the schema does not declare.
 * - `invalid-arguments`: any other JSON Schema violation (types, enums, nested objects, formats, ...).
 */
export type ToolInputProblemKind =
  | 'invalid-json'
  | 'not-an-object'
  | 'too-large'
  | 'too-deep'
  | 'missing-arguments'
  | 'unknown-arguments'
  | 'invalid-arguments'

/** Every {@link ToolInputProblemKind}, in the order the checks run. */
export const TOOL_INPUT_PROBLEM_KINDS: readonly ToolInputProblemKind[] = [
  'invalid-json',
  'not-an-object',
  'too-large',
  'too-deep',
  'missing-arguments',
  'unknown-arguments',
  'invalid-arguments',
]

/** A rejected tool input: what was wrong and the exact error text to return to the model. */
export interface ToolInputProblem {
  /** The category, for counters and reward shaping. */
  readonly kind: ToolInputProblemKind
  /** The error text, e.g. `Error: tool_name=<calculator> | missing required argument(s): expression`. */
  readonly message: string
}
