import { hasErrorMarker, VLLMTitoError } from '@vllm-tito/spec'

const invalidToolSchemaSymbol = Symbol.for('vllm-tito.error.invalid-tool-schema')

/**
 * A tool's input schema is not a JSON Schema that ajv can compile (a typo in a keyword value, an unsupported
 * `$schema` draft, an invalid regular expression, an unresolvable `$ref`). This is a mistake of the tool's
 * author, not of the model, so it is thrown when the validator is built (for the Strands hooks: when the
 * plugin is initialised), never returned to the model as a tool result.
 */
export class InvalidToolSchemaError extends VLLMTitoError {
  readonly [invalidToolSchemaSymbol] = true
  override readonly name: string = 'InvalidToolSchemaError'
  /** The name of the tool whose schema failed. */
  readonly toolName: string
  /** What ajv (or the draft check) reported, e.g. `schema is invalid: data/properties/a/type must be ...`. */
  readonly reason: string

  constructor(toolName: string, reason: string, options?: { cause?: unknown }) {
    super(`the input schema of tool "${toolName}" does not compile: ${reason}`, options)
    this.toolName = toolName
    this.reason = reason
  }

  /** `true` for an {@link InvalidToolSchemaError} from any installed copy of this package. */
  static override isInstance(error: unknown): error is InvalidToolSchemaError {
    return hasErrorMarker(error, invalidToolSchemaSymbol)
  }
}
