import { isPlainObject } from '@vllm-tito/spec'
import type { Options as AjvOptions, ErrorObject, ValidateFunction } from 'ajv'
import { Ajv } from 'ajv'
import { Ajv2019 } from 'ajv/dist/2019.js'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { InvalidToolSchemaError } from './invalid-tool-schema-error'

/**
 * A tool input schema as the tool declares it: a JSON Schema object (`ToolSpec.inputSchema` of a Strands tool,
 * the `inputSchema` of an MCP tool, or `z.toJSONSchema(...)` of a zod schema).
 */
export type ToolInputSchema = object

/** Which top-level keys the "unknown argument(s)" check (as in `strands-vllm`) accepts. */
export interface KnownArguments {
  /** Names declared under `properties`. */
  readonly names: ReadonlySet<string>
  /** Regular expressions of `patternProperties`; a key matching one is known. */
  readonly patterns: readonly RegExp[]
}

/** A schema prepared for checking: the top-level facts `strands-vllm` checks, plus ajv's compiled validator. */
export interface CompiledToolSchema {
  /** Names in the top-level `required`, in schema order. */
  readonly requiredArguments: readonly string[]
  /** The keys the unknown-argument check accepts, or `null` when the schema allows any key. */
  readonly knownArguments: KnownArguments | null
  /** ajv's validator for the full schema, or `null` when full schema validation is off. */
  readonly validate: ((input: unknown) => readonly ErrorObject[]) | null
}

/** JSON Schema drafts this package compiles, keyed by how `$schema` names them. */
type Draft = 'draft-07' | '2019-09' | '2020-12'

// why one shared instance per draft: adding the meta-schemas and formats costs milliseconds, and a compiled
// validator does not depend on the instance afterwards (each schema is removed from ajv's cache after compiling)
const ajvOptions: AjvOptions = {
  allErrors: true,
  strict: false,
  logger: false,
  allowUnionTypes: true,
}
const ajvByDraft = new Map<Draft, Ajv>()

function ajvFor(draft: Draft): Ajv {
  let instance = ajvByDraft.get(draft)
  if (instance === undefined) {
    instance =
      draft === '2020-12'
        ? new Ajv2020(ajvOptions)
        : draft === '2019-09'
          ? new Ajv2019(ajvOptions)
          : new Ajv(ajvOptions)
    addFormats(instance)
    ajvByDraft.set(draft, instance)
  }
  return instance
}

/** The draft named by `$schema`, `undefined` when there is none, `null` when it names an unsupported one. */
function declaredDraft(schema: Readonly<Record<string, unknown>>): Draft | undefined | null {
  const declared = schema.$schema
  if (declared === undefined) return undefined
  if (typeof declared !== 'string') return null
  if (declared.includes('draft/2020-12')) return '2020-12'
  if (declared.includes('draft/2019-09')) return '2019-09'
  if (declared.includes('draft-07')) return 'draft-07'
  return null
}

function compileWithAjv(draft: Draft, schema: object): ValidateFunction {
  const ajv = ajvFor(draft)
  try {
    return ajv.compile(schema)
  } finally {
    // why: ajv keeps every compiled schema (keyed by object and `$id`) forever; tools with fresh schema objects
    // would leak, and two tools sharing an `$id` would clash
    ajv.removeSchema(schema)
  }
}

function compileFullSchema(toolName: string, schema: Readonly<Record<string, unknown>>): ValidateFunction {
  const draft = declaredDraft(schema)
  if (draft === null) {
    throw new InvalidToolSchemaError(
      toolName,
      `unsupported $schema ${JSON.stringify(schema.$schema)}; supported: draft-07, 2019-09, 2020-12`,
    )
  }
  try {
    if (draft !== undefined) return compileWithAjv(draft, schema)
    // no `$schema` (Strands strips it from zod schemas, which are 2020-12): try 2020-12 first, then draft-07,
    // whose array form of `items` 2020-12 rejects
    try {
      return compileWithAjv('2020-12', schema)
    } catch (error2020) {
      try {
        return compileWithAjv('draft-07', schema)
      } catch {
        throw error2020
      }
    }
  } catch (error) {
    throw new InvalidToolSchemaError(toolName, error instanceof Error ? error.message : String(error), {
      cause: error,
    })
  }
}

function requiredArgumentsOf(schema: Readonly<Record<string, unknown>>): string[] {
  const required = schema.required
  if (!Array.isArray(required)) return []
  return required.filter((name): name is string => typeof name === 'string')
}

/**
 * The declared argument names, when the schema forbids others (`additionalProperties: false`, the only case
 * `strands-vllm` flags unknown arguments); `null` when undeclared keys are allowed.
 */
function knownArgumentsOf(
  toolName: string,
  schema: Readonly<Record<string, unknown>>,
): KnownArguments | null {
  const properties = isPlainObject(schema.properties) ? schema.properties : {}
  const names = new Set(Object.keys(properties))
  const additional = schema.additionalProperties
  // strands-vllm flags unknown keys only when the schema forbids them outright; an open schema accepts them
  if (additional !== false) return null
  const patterns: RegExp[] = []
  if (isPlainObject(schema.patternProperties)) {
    for (const source of Object.keys(schema.patternProperties)) {
      try {
        patterns.push(new RegExp(source, 'u'))
      } catch (error) {
        throw new InvalidToolSchemaError(toolName, `invalid patternProperties regular expression ${source}`, {
          cause: error,
        })
      }
    }
  }
  return { names, patterns }
}

/**
 * Compiles a tool's input schema, without caching. Throws {@link InvalidToolSchemaError} (naming the tool)
 * when the schema is not a valid JSON Schema of a supported draft. With `fullSchemaValidation: false` only the
 * top-level facts `strands-vllm` checks (required and declared names) are read and ajv is not used.
 */
export function compileToolSchema(
  toolName: string,
  schema: ToolInputSchema,
  options: { fullSchemaValidation?: boolean } = {},
): CompiledToolSchema {
  if (!isPlainObject(schema)) {
    throw new InvalidToolSchemaError(toolName, 'the schema must be a JSON object')
  }
  const requiredArguments = requiredArgumentsOf(schema)
  const knownArguments = knownArgumentsOf(toolName, schema)
  if (options.fullSchemaValidation === false) return { requiredArguments, knownArguments, validate: null }
  const validateFunction = compileFullSchema(toolName, schema)
  const validate = (input: unknown): readonly ErrorObject[] =>
    validateFunction(input) ? [] : (validateFunction.errors ?? [])
  return { requiredArguments, knownArguments, validate }
}

// why WeakMaps keyed by the schema object: a tool's spec object lives as long as the tool, so the compiled
// validator is reused for every call and released with the tool
const fullCache = new WeakMap<object, CompiledToolSchema>()
const topLevelOnlyCache = new WeakMap<object, CompiledToolSchema>()

/**
 * {@link compileToolSchema} with a cache keyed by the schema object: the first call compiles, later calls with
 * the same object reuse the validator. Keep schema objects stable to benefit (tool specs are).
 */
export function getCompiledToolSchema(
  toolName: string,
  schema: ToolInputSchema,
  options: { fullSchemaValidation?: boolean } = {},
): CompiledToolSchema {
  const cache = options.fullSchemaValidation === false ? topLevelOnlyCache : fullCache
  let compiled = cache.get(schema)
  if (compiled === undefined) {
    compiled = compileToolSchema(toolName, schema, options)
    cache.set(schema, compiled)
  }
  return compiled
}
