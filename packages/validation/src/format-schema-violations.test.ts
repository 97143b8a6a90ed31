import type { ErrorObject } from 'ajv'
import { Ajv2019 } from 'ajv/dist/2019'
import { describe, expect, it } from 'vitest'
import { formatSchemaViolations } from './format-schema-violations'

const wide = { maxViolations: 100, maxViolationCharacters: 1000 }

/** One ajv error; the fields ajv always fills, with the given ones. */
function error(fields: Partial<ErrorObject> & Pick<ErrorObject, 'keyword'>): ErrorObject {
  return { instancePath: '', schemaPath: `#/${fields.keyword}`, params: {}, ...fields }
}

/** The violations text ajv's own errors give for `value` against `schema` (all errors, like the package). */
function violations(schema: object, value: unknown, limits = wide): string {
  const validate = new Ajv2019({ allErrors: true, strict: false }).compile(schema)
  expect(validate(value)).toBe(false)
  return formatSchemaViolations(validate.errors ?? [], limits)
}

describe('formatSchemaViolations: paths', () => {
  it('writes JSON pointers as property paths: identifiers with dots, indexes and other keys in brackets', () => {
    const at = (instancePath: string) =>
      formatSchemaViolations([error({ keyword: 'type', instancePath, params: { type: 'string' } })], wide)
    expect(at('')).toBe('(input): must be string')
    expect(at('/location/cities/0/name')).toBe('location.cities[0].name: must be string')
    expect(at('/items/10')).toBe('items[10]: must be string')
    // only a whole canonical number is an index: a leading zero, a trailing or a leading letter is a key
    expect(at('/items/01')).toBe('items["01"]: must be string')
    expect(at('/items/1x')).toBe('items["1x"]: must be string')
    expect(at('/items/x1')).toBe('items.x1: must be string')
    expect(at('/my key')).toBe('["my key"]: must be string')
    expect(at('/$ref/_a')).toBe('$ref._a: must be string')
  })

  it('unescapes ~1 and ~0 in pointer segments (a key holding / or ~)', () => {
    const at = (instancePath: string) =>
      formatSchemaViolations([error({ keyword: 'type', instancePath, params: { type: 'number' } })], wide)
    expect(at('/a~1b')).toBe('["a/b"]: must be number')
    expect(at('/a~0b')).toBe('["a~b"]: must be number')
    // ~01 is ~ then 1, never /
    expect(at('/a~01')).toBe('["a~1"]: must be number')
  })
})

describe('formatSchemaViolations: wording per keyword', () => {
  it('names a missing, an additional and an unevaluated property by its full path', () => {
    expect(
      formatSchemaViolations(
        [
          error({ keyword: 'required', instancePath: '/guest', params: { missingProperty: 'name' } }),
          error({ keyword: 'additionalProperties', params: { additionalProperty: 'extra' } }),
          error({
            keyword: 'unevaluatedProperties',
            instancePath: '/room',
            params: { unevaluatedProperty: 'view' },
          }),
        ],
        wide,
      ),
    ).toBe('extra: is not allowed; guest.name: is required; room.view: is not allowed')
  })

  it('words type, enum, const and any other keyword; a keyword without message names itself', () => {
    expect(
      formatSchemaViolations(
        [
          error({ keyword: 'type', instancePath: '/a', params: { type: ['string', 'null'] } }),
          error({ keyword: 'enum', instancePath: '/b', params: { allowedValues: ['x', 2, null] } }),
          error({ keyword: 'enum', instancePath: '/c', params: {} }),
          error({ keyword: 'const', instancePath: '/d', params: { allowedValue: { k: 1 } } }),
          error({ keyword: 'minimum', instancePath: '/e', message: 'must be >= 1' }),
          error({ keyword: 'custom', instancePath: '/f' }),
        ],
        wide,
      ),
    ).toBe(
      'a: must be string or null; b: must be one of "x", 2, null; c: must be one of ; d: must be {"k":1}; e: must be >= 1; f: must satisfy custom',
    )
  })

  it("words ajv's own errors the same way", () => {
    expect(
      violations(
        {
          type: 'object',
          properties: { n: { type: 'integer', minimum: 1 }, mode: { const: 'fast' } },
          required: ['n', 'q'],
          unevaluatedProperties: false,
        },
        { n: 0, mode: 'slow', extra: true },
      ),
    ).toBe('extra: is not allowed; mode: must be "fast"; n: must be >= 1; q: is required')
  })
})

describe('formatSchemaViolations: anyOf and oneOf', () => {
  it('folds branches that failed only on their type into one "must be A or B"', () => {
    const schema = {
      type: 'object',
      properties: {
        a: { anyOf: [{ type: 'string' }, { type: 'null' }] },
        b: { oneOf: [{ type: 'integer' }, { type: 'boolean' }] },
      },
    }
    expect(violations(schema, { a: 1, b: 'x' })).toBe(
      'a: must be string or null; b: must be integer or boolean',
    )
  })

  it('keeps the parent message when a branch failed on something else than its type', () => {
    const schema = { anyOf: [{ type: 'string' }, { type: 'integer', minimum: 5 }] }
    expect(violations(schema, 1)).toBe('(input): must match a schema in anyOf')
    // a branch that failed deeper than the parent's value is not a plain type failure either
    const deeper = { anyOf: [{ type: 'string' }, { type: 'object', properties: { k: { type: 'string' } } }] }
    expect(violations(deeper, { k: 1 })).toBe('(input): must match a schema in anyOf')
  })

  it('a parent without branch errors keeps its own message', () => {
    expect(
      formatSchemaViolations(
        [error({ keyword: 'oneOf', instancePath: '/x', message: 'must match exactly one schema in oneOf' })],
        wide,
      ),
    ).toBe('x: must match exactly one schema in oneOf')
  })

  it('folds only the errors below the parent: earlier errors of other values or schemas stay', () => {
    const parent = error({
      keyword: 'anyOf',
      instancePath: '/a',
      schemaPath: '#/properties/a/anyOf',
      message: 'must match a schema in anyOf',
    })
    const branch = (type: string, index: number) =>
      error({
        keyword: 'type',
        instancePath: '/a',
        schemaPath: `#/properties/a/anyOf/${index}/type`,
        params: { type },
      })
    expect(
      formatSchemaViolations(
        [
          // a value whose path only starts like the parent's value
          error({
            keyword: 'type',
            instancePath: '/ab',
            schemaPath: '#/properties/a/anyOf/0/type',
            params: { type: 'z' },
          }),
          // another schema on the same value, and a schema whose path only starts like the parent's
          error({
            keyword: 'type',
            instancePath: '/a',
            schemaPath: '#/properties/a/type',
            params: { type: 'x' },
          }),
          error({
            keyword: 'type',
            instancePath: '/a',
            schemaPath: '#/properties/a/anyOfOther/type',
            params: { type: 'y' },
          }),
          branch('string', 0),
          branch('null', 1),
          parent,
        ],
        wide,
      ),
    ).toBe('a: must be string or null; a: must be x; a: must be y; ab: must be z')
  })

  it('folds nothing into other keywords: contains keeps the errors of the items it tried', () => {
    expect(violations({ type: 'array', contains: { type: 'string' } }, [1, 2])).toBe(
      '(input): must contain at least 1 valid item(s); [0]: must be string; [1]: must be string',
    )
  })

  it('folds nested anyOf from the inside out: the inner one is already one type error for the outer one', () => {
    const schema = { anyOf: [{ anyOf: [{ type: 'string' }, { type: 'null' }] }, { type: 'integer' }] }
    expect(violations(schema, true)).toBe('(input): must be string or null or integer')
  })
})

describe('formatSchemaViolations: patterns, order and limits', () => {
  it('drops a pattern error where a format error names the same value, and keeps other patterns', () => {
    const pattern = (instancePath: string) =>
      error({ keyword: 'pattern', instancePath, message: 'must match pattern "^x"' })
    expect(
      formatSchemaViolations(
        [
          pattern('/email'),
          error({ keyword: 'format', instancePath: '/email', message: 'must match format "email"' }),
          pattern('/code'),
          error({ keyword: 'type', instancePath: '/other', params: { type: 'string' } }),
          pattern('/other'),
        ],
        wide,
      ),
    ).toBe(
      'code: must match pattern "^x"; email: must match format "email"; other: must be string; other: must match pattern "^x"',
    )
  })

  it('sorts by code unit (not locale), whatever order ajv reported, and lists each text once', () => {
    const type = (instancePath: string, type: string) =>
      error({ keyword: 'type', instancePath, params: { type } })
    const reported = [
      type('/b', 'x'),
      type('/a', 'é'),
      type('/a', 'f'),
      type('/b', 'x'),
      type('/a', 'E'),
      type('/B', 'x'),
    ]
    // code units: B < a < b, and E < f < é (a locale order would put é before f)
    expect(formatSchemaViolations(reported, wide)).toBe(
      'B: must be x; a: must be E; a: must be f; a: must be é; b: must be x',
    )
  })

  it('cuts the list at maxViolations with the count of the rest, and lists all when exactly at the limit', () => {
    const three = ['/a', '/b', '/c'].map((instancePath) =>
      error({ keyword: 'type', instancePath, params: { type: 'string' } }),
    )
    expect(formatSchemaViolations(three, { maxViolations: 3, maxViolationCharacters: 100 })).toBe(
      'a: must be string; b: must be string; c: must be string',
    )
    expect(formatSchemaViolations(three, { maxViolations: 2, maxViolationCharacters: 100 })).toBe(
      'a: must be string; b: must be string; ... (+1 more)',
    )
    expect(formatSchemaViolations(three, { maxViolations: 0, maxViolationCharacters: 100 })).toBe(
      '... (+3 more)',
    )
  })

  it('cuts a long violation with …, keeping texts exactly at the limit whole', () => {
    const described = (message: string, maxViolationCharacters: number) =>
      formatSchemaViolations([error({ keyword: 'custom', instancePath: '/k', message })], {
        maxViolations: 5,
        maxViolationCharacters,
      })
    // 'k: ' + 7 characters = 10
    expect(described('abcdefg', 10)).toBe('k: abcdefg')
    expect(described('abcdefg', 9)).toBe('k: abcde…')
    expect(described('abcdefg', 1)).toBe('…')
  })

  it('never keeps half of a surrogate pair where the cut falls', () => {
    const described = (message: string, maxViolationCharacters: number) =>
      formatSchemaViolations([error({ keyword: 'custom', instancePath: '/k', message })], {
        maxViolations: 5,
        maxViolationCharacters,
      })
    // the cut keeps 4 code units: 'k: ' and the high half of the emoji, which is dropped
    expect(described('😀xyz', 5)).toBe('k: …')
    // the lowest and highest high surrogates alike (U+10000 and U+10FC00 start with 0xd800 and 0xdbff)
    expect(described('\u{10000}xyz', 5)).toBe('k: …')
    expect(described('\u{10fc00}xyz', 5)).toBe('k: …')
    // a low surrogate ends a whole pair, which is kept
    expect(described('😀xyz', 6)).toBe('k: 😀…')
    // code units next to the high surrogates are ordinary characters
    expect(described('\ud7ffxyz', 5)).toBe('k: \ud7ff…')
    expect(described('\udc00xyz', 5)).toBe('k: \udc00…')
  })
})
