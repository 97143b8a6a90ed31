import {
  inspectToolInput,
  resolveToolInputCheckOptions,
  type ToolInputCheckOptions,
} from './check-tool-input'
import { compileToolSchema, type ToolInputSchema } from './compile-tool-schema'
import type { ToolInputProblem } from './tool-input-problem'

/** Checks one input of the tool it was created for; `null` when the input is valid. */
export type ToolInputValidator = (input: unknown) => ToolInputProblem | null

/**
 * Compiles a tool's schema now (no shared cache) and returns a validator that reuses it for every input:
 * the explicit form of what {@link checkToolInput} does with its cache. Compile errors surface here, once.
 *
 * @throws {InvalidToolSchemaError} when the schema does not compile
 * @throws {RangeError} when an option is out of range
 */
export function createToolInputValidator(
  toolName: string,
  schema: ToolInputSchema | undefined,
  options?: ToolInputCheckOptions,
): ToolInputValidator {
  const resolved = resolveToolInputCheckOptions(options)
  const compiled =
    schema === undefined
      ? null
      : compileToolSchema(toolName, schema, { fullSchemaValidation: resolved.fullSchemaValidation })
  return (input) => inspectToolInput(toolName, input, compiled, resolved).problem
}
