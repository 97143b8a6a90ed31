import { describe, expect, it } from 'vitest'
import { checkToolInput } from './check-tool-input'
import { compileToolSchema, getCompiledToolSchema } from './compile-tool-schema'
import { createToolInputValidator } from './create-tool-input-validator'
import { InvalidToolSchemaError } from './invalid-tool-schema-error'

/** The error text `checkToolInput` gives the model, or `null` for a valid input. */
function errorText(...call: Parameters<typeof checkToolInput>): string | null {
  return checkToolInput(...call)?.message ?? null
}

function compileError(schema: object): InvalidToolSchemaError {
  try {
    compileToolSchema('broken', schema)
  } catch (error) {
    if (InvalidToolSchemaError.isInstance(error)) return error
    throw error
  }
  throw new Error('the schema compiled')
}

describe('JSON Schema drafts', () => {
  it('honours draft-07 tuples (array form of items)', () => {
    const schema = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: { pair: { type: 'array', items: [{ type: 'string' }, { type: 'number' }] } },
    }
    expect(errorText('t', { pair: ['a', 1] }, schema)).toBeNull()
    expect(errorText('t', { pair: [1, 1] }, schema)).toBe(
      'Error: tool_name=<t> | invalid argument(s): pair[0]: must be string',
    )
  })

  it('falls back to draft-07 for a schema without $schema that 2020-12 rejects', () => {
    const schema = {
      type: 'object',
      properties: { pair: { type: 'array', items: [{ type: 'string' }, { type: 'number' }] } },
    }
    expect(errorText('t', { pair: ['a', 'b'] }, schema)).toBe(
      'Error: tool_name=<t> | invalid argument(s): pair[1]: must be number',
    )
  })

  it('honours 2019-09 and 2020-12 keywords', () => {
    const draft2019 = {
      $schema: 'https://json-schema.org/draft/2019-09/schema',
      type: 'object',
      properties: { card: { type: 'string' }, cvc: { type: 'string' } },
      dependentRequired: { card: ['cvc'] },
    }
    expect(errorText('pay', { card: '4242' }, draft2019)).toBe(
      'Error: tool_name=<pay> | invalid argument(s): (input): must have property cvc when property card is present',
    )
    const draft2020 = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: { pair: { type: 'array', prefixItems: [{ type: 'string' }, { type: 'integer' }] } },
    }
    expect(errorText('t', { pair: ['a', 1.5] }, draft2020)).toBe(
      'Error: tool_name=<t> | invalid argument(s): pair[1]: must be integer',
    )
  })

  it('validates recursive schemas and reuses $id across schemas without clashing', () => {
    const tree = (id: string, leaf: string) => ({
      $id: id,
      type: 'object',
      properties: { root: { $ref: '#/$defs/node' } },
      $defs: {
        node: {
          type: 'object',
          properties: { value: { type: leaf }, children: { type: 'array', items: { $ref: '#/$defs/node' } } },
          required: ['value'],
        },
      },
    })
    const numbers = tree('https://example.org/tree', 'number')
    const strings = tree('https://example.org/tree', 'string')
    const input = { root: { value: 1, children: [{ value: 2, children: [{ value: 'x' }] }] } }
    expect(errorText('numbers', input, numbers)).toBe(
      'Error: tool_name=<numbers> | invalid argument(s): root.children[0].children[0].value: must be number',
    )
    expect(errorText('strings', input, strings)).toBe(
      'Error: tool_name=<strings> | invalid argument(s): root.children[0].value: must be string; root.value: must be string',
    )
  })
})

describe('schemas that do not compile', () => {
  it('names the tool and what ajv reported', () => {
    const error = compileError({ type: 'object', properties: { city: { type: 'strnig' } } })
    expect(error.name).toBe('InvalidToolSchemaError')
    expect(error.toolName).toBe('broken')
    expect(error.reason).toMatch(
      /^schema is invalid: data\/properties\/city\/type must be equal to one of the allowed values/,
    )
    expect(error.message).toBe(`the input schema of tool "broken" does not compile: ${error.reason}`)
  })

  it('rejects unsupported drafts, unresolvable refs, bad regular expressions and non-objects', () => {
    expect(compileError({ $schema: 'http://json-schema.org/draft-04/schema#', type: 'object' }).reason).toBe(
      'unsupported $schema "http://json-schema.org/draft-04/schema#"; supported: draft-07, 2019-09, 2020-12',
    )
    expect(compileError({ type: 'object', properties: { a: { $ref: '#/$defs/missing' } } }).reason).toMatch(
      /can't resolve reference #\/\$defs\/missing/,
    )
    expect(
      compileError({
        type: 'object',
        properties: { a: {} },
        patternProperties: { '(': {} },
        additionalProperties: false,
      }).reason,
    ).toBe('invalid patternProperties regular expression (')
    expect(compileError([] as object).reason).toBe('the schema must be a JSON object')
  })

  it('throws from checkToolInput and createToolInputValidator, the author’s mistake, not the model’s', () => {
    const broken = { type: 'object', properties: { a: { minimum: 'zero' } } }
    expect(() => errorText('broken', { a: 1 }, broken)).toThrow(InvalidToolSchemaError)
    expect(() => createToolInputValidator('broken', broken)).toThrow(InvalidToolSchemaError)
  })

  it('reads only the top-level facts when full validation is off', () => {
    const broken = {
      type: 'object',
      properties: { a: { minimum: 'zero' } },
      required: ['a'],
      additionalProperties: false,
    }
    const compiled = compileToolSchema('broken', broken, { fullSchemaValidation: false })
    expect(compiled.validate).toBeNull()
    expect(compiled.requiredArguments).toEqual(['a'])
    expect([...(compiled.knownArguments?.names ?? [])]).toEqual(['a'])
  })
})

describe('compiled validator reuse', () => {
  it('caches per schema object and compiles afresh on request', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } } }
    const cached = getCompiledToolSchema('t', schema)
    expect(getCompiledToolSchema('t', schema)).toBe(cached)
    expect(getCompiledToolSchema('t', { ...schema })).not.toBe(cached)
    expect(compileToolSchema('t', schema)).not.toBe(cached)
  })

  it('createToolInputValidator checks many inputs with one compiled schema', () => {
    const validate = createToolInputValidator('t', {
      type: 'object',
      properties: { a: { type: 'string' } },
      additionalProperties: false,
    })
    expect(validate({ a: 'x' })).toBeNull()
    expect(validate({ a: 1 })).toEqual({
      kind: 'invalid-arguments',
      message: 'Error: tool_name=<t> | invalid argument(s): a: must be string',
    })
    expect(validate({ b: 1 })).toEqual({
      kind: 'unknown-arguments',
      message: 'Error: tool_name=<t> | unknown argument(s): b',
    })
  })
})
