import { inspectToolInput } from './check-tool-input'
import { compileToolSchema, type ToolInputSchema } from './compile-tool-schema'
import { resolveToolInputCheckOptions, type ToolInputCheckOptions } from './tool-input-check-options'
import type { ToolInputProblem } from './tool-input-problem'

/** Checks one input of the tool it was created for; `null` when the input is valid. */
export type ToolInputValidator = (input: unknown) => ToolInputProblem | null

/**
 * Compiles a tool's schema now (no shared cache) and returns a validator that reuses it for every input:
 * the explicit form of what {@link checkToolInput} does with its cache. Compile errors surface here, once.
 *
 * @throws {InvalidToolSchemaError} when the schema does not compile
 * @throws {InvalidOptionError} (from `@vllm-tito/spec`) for a bad or misspelt option
 */
export function createToolInputValidator(
  toolName: string,
  schema: ToolInputSchema | undefined,
  options?: ToolInputCheckOptions,
): ToolInputValidator {
  const resolved = resolveToolInputCheckOptions('createToolInputValidator', options)
  const compiled =
    schema === undefined
      ? null
      : compileToolSchema(toolName, schema, { fullSchemaValidation: resolved.fullSchemaValidation })
  return (input) => inspectToolInput(toolName, input, compiled, resolved).problem
}
