import { INVALID_JSON_ARGUMENTS_KEY, InvalidOptionError } from '@vllm-tito/spec'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { checkToolInput } from './check-tool-input'
import { resolveToolInputCheckOptions } from './tool-input-check-options'

/** The error text `checkToolInput` gives the model, or `null` for a valid input. */
function errorText(...call: Parameters<typeof checkToolInput>): string | null {
  return checkToolInput(...call)?.message ?? null
}

const calculator = {
  type: 'object',
  properties: { expression: { type: 'string' }, precision: { type: 'integer', minimum: 0 } },
  required: ['expression'],
  additionalProperties: false,
}

const booking = {
  type: 'object',
  properties: {
    city: { type: 'string', minLength: 2 },
    nights: { type: 'integer', minimum: 1, maximum: 30 },
    room: { enum: ['single', 'double'] },
    guest: {
      type: 'object',
      properties: { name: { type: 'string' }, email: { type: 'string', format: 'email' } },
      required: ['name'],
      additionalProperties: false,
    },
    extras: { type: 'array', items: { type: 'string' }, maxItems: 3 },
    note: { anyOf: [{ type: 'string' }, { type: 'null' }] },
  },
  required: ['city', 'nights'],
}

describe('checkToolInput messages: the strands-vllm texts', () => {
  it('accepts a valid input', () => {
    expect(errorText('calculator', { expression: '2+2' }, calculator)).toBeNull()
    expect(errorText('calculator', { expression: '2+2', precision: 2 }, calculator)).toBeNull()
  })

  it('names missing required arguments in schema order', () => {
    expect(errorText('calculator', {}, calculator)).toBe(
      'Error: tool_name=<calculator> | missing required argument(s): expression',
    )
    expect(errorText('book', { room: 'single' }, booking)).toBe(
      'Error: tool_name=<book> | missing required argument(s): city, nights',
    )
  })

  it('counts a null value as present, as strands-vllm does', () => {
    expect(errorText('calculator', { expression: null }, calculator)).toBe(
      'Error: tool_name=<calculator> | invalid argument(s): expression: must be string',
    )
  })

  it('names unknown arguments sorted, as strands-vllm does, after the missing check', () => {
    expect(errorText('calculator', { expression: '1', invalid_param: 1 }, calculator)).toBe(
      'Error: tool_name=<calculator> | unknown argument(s): invalid_param',
    )
    expect(errorText('calculator', { zeta: 1, expression: '1', alpha: 2 }, calculator)).toBe(
      'Error: tool_name=<calculator> | unknown argument(s): alpha, zeta',
    )
    expect(errorText('calculator', { invalid_param: 1 }, calculator)).toBe(
      'Error: tool_name=<calculator> | missing required argument(s): expression',
    )
  })

  it('flags undeclared keys only when the schema forbids extra keys, as strands-vllm does', () => {
    const open = { type: 'object', properties: {} }
    expect(errorText('noop', { anything: 1 }, open)).toBeNull()
    const declaredButOpen = { type: 'object', properties: { a: { type: 'string' } } }
    expect(errorText('declared', { a: 'x', b: 1 }, declaredButOpen)).toBeNull()
    expect(errorText('noop', { anything: 1 }, { type: 'object' })).toBeNull()
    const allowing = { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: true }
    expect(errorText('open', { a: 'x', b: 1 }, allowing)).toBeNull()
    const closed = { type: 'object', additionalProperties: false }
    expect(errorText('closed', { b: 1 }, closed)).toBe('Error: tool_name=<closed> | unknown argument(s): b')
    const patterned = {
      type: 'object',
      properties: { a: { type: 'string' } },
      patternProperties: { '^x_': { type: 'number' } },
      additionalProperties: false,
    }
    expect(errorText('patterned', { a: 'x', x_1: 1 }, patterned)).toBeNull()
    expect(errorText('patterned', { a: 'x', y_1: 1 }, patterned)).toBe(
      'Error: tool_name=<patterned> | unknown argument(s): y_1',
    )
  })

  it('parses a JSON string input and rejects one that does not parse', () => {
    expect(errorText('calculator', '{"expression":"1"}', calculator)).toBeNull()
    expect(errorText('calculator', '{"expression":', calculator)).toBe(
      'Error: tool_name=<calculator> | tool input is not valid JSON',
    )
    expect(errorText('calculator', '', calculator)).toBe(
      'Error: tool_name=<calculator> | tool input is not valid JSON',
    )
    expect(errorText('calculator', '{}', calculator)).toBe(
      'Error: tool_name=<calculator> | missing required argument(s): expression',
    )
  })

  it("treats the provider's invalid-JSON wrapper as text that does not parse", () => {
    expect(INVALID_JSON_ARGUMENTS_KEY).toBe('__vllm_invalid_json_arguments__')
    expect(errorText('calculator', { [INVALID_JSON_ARGUMENTS_KEY]: '{"expression": "1' }, calculator)).toBe(
      'Error: tool_name=<calculator> | tool input is not valid JSON',
    )
    // a second key makes it an ordinary (unknown) argument, not the wrapper
    expect(errorText('calculator', { [INVALID_JSON_ARGUMENTS_KEY]: '{', expression: '1' }, calculator)).toBe(
      'Error: tool_name=<calculator> | unknown argument(s): __vllm_invalid_json_arguments__',
    )
  })

  it('requires an object', () => {
    for (const input of [[], [1], 42, true, '[1,2]', '42', '"text"']) {
      expect(errorText('calculator', input, calculator)).toBe(
        'Error: tool_name=<calculator> | tool input must be an object',
      )
    }
  })

  it('reads a missing (null) input as an empty object, as strands-vllm does', () => {
    for (const input of [null, undefined, 'null']) {
      expect(errorText('calculator', input, calculator)).toBe(
        'Error: tool_name=<calculator> | missing required argument(s): expression',
      )
      expect(errorText('free', input, undefined)).toBeNull()
    }
  })

  it('runs the JSON and object checks without a schema', () => {
    expect(errorText('free', { anything: [1, { deep: true }] }, undefined)).toBeNull()
    expect(errorText('free', 'nope', undefined)).toBe(
      'Error: tool_name=<free> | tool input is not valid JSON',
    )
    expect(errorText('free', [], undefined)).toBe('Error: tool_name=<free> | tool input must be an object')
  })
})

describe('checkToolInput messages: full JSON Schema', () => {
  it('lists every other violation sorted in one line', () => {
    const input = {
      city: 'X',
      nights: 0.5,
      room: 'suite',
      guest: { email: 'not-an-email', age: 3 },
      extras: ['a', 1, 'c', 'd'],
      note: 5,
    }
    expect(errorText('book', input, booking)).toBe(
      'Error: tool_name=<book> | invalid argument(s): city: must NOT have fewer than 2 characters; ' +
        'extras: must NOT have more than 3 items; extras[1]: must be string; guest.age: is not allowed; ' +
        'guest.email: must match format "email"; guest.name: is required; nights: must be >= 1; ' +
        'nights: must be integer; note: must be string or null; room: must be one of "single", "double"',
    )
  })

  it('cuts the list and each violation at the configured limits', () => {
    const input = { city: 'X', nights: 0.5, room: 'suite' }
    expect(errorText('book', input, booking, { maxViolationsInError: 2 })).toBe(
      'Error: tool_name=<book> | invalid argument(s): city: must NOT have fewer than 2 characters; ' +
        'nights: must be >= 1; ... (+2 more)',
    )
    expect(errorText('book', { city: 'X', nights: 1 }, booking, { maxViolationCharacters: 12 })).toBe(
      'Error: tool_name=<book> | invalid argument(s): city: must …',
    )
  })

  it('quotes keys that are not identifiers and unescapes JSON pointers', () => {
    const schema = {
      type: 'object',
      properties: { 'a/b': { type: 'object', properties: { 'c d': { type: 'integer' } } } },
    }
    expect(errorText('odd', { 'a/b': { 'c d': 'x' } }, schema)).toBe(
      'Error: tool_name=<odd> | invalid argument(s): ["a/b"]["c d"]: must be integer',
    )
  })

  it('gives the same text for the same input every time', () => {
    const input = { city: 'X', nights: 99, room: 1, extras: 'no' }
    const first = errorText('book', input, booking)
    expect(errorText('book', structuredClone(input), structuredClone(booking))).toBe(first)
    expect(errorText('book', input, booking)).toBe(first)
  })

  it('validates zod-generated schemas, with the pattern of a format folded into the format', () => {
    const schema = z.toJSONSchema(
      z.object({
        email: z.email(),
        id: z.uuid(),
        when: z.iso.datetime(),
        count: z.number().int().positive(),
        kind: z.enum(['a', 'b']),
        maybe: z.string().nullable().optional(),
        pair: z.tuple([z.string(), z.number()]),
      }),
    )
    const valid = {
      email: 'ada@example.org',
      id: '123e4567-e89b-12d3-a456-426614174000',
      when: '2026-11-27T10:00:00Z',
      count: 3,
      kind: 'a',
      pair: ['x', 1],
    }
    expect(errorText('zod', valid, schema)).toBeNull()
    const invalid = {
      ...valid,
      email: 'ada',
      id: 'x',
      when: 'today',
      count: 0,
      kind: 'c',
      maybe: 1,
      pair: [1, 'x'],
    }
    expect(errorText('zod', invalid, schema)).toBe(
      'Error: tool_name=<zod> | invalid argument(s): count: must be > 0; email: must match format "email"; ' +
        'id: must match format "uuid"; kind: must be one of "a", "b"; maybe: must be string or null; ' +
        'pair[0]: must be string; pair[1]: must be number; when: must match format "date-time"',
    )
  })
})

describe('checkToolInput messages: hostile input', () => {
  it('never treats __proto__ or constructor as declared and never pollutes prototypes', () => {
    const parsed = JSON.parse('{"expression":"1","__proto__":{"polluted":true}}')
    expect(errorText('calculator', parsed, calculator)).toBe(
      'Error: tool_name=<calculator> | unknown argument(s): __proto__',
    )
    expect(
      errorText('calculator', '{"expression":"1","constructor":{"prototype":{"x":1}}}', calculator),
    ).toBe('Error: tool_name=<calculator> | unknown argument(s): constructor')
    const requiringConstructor = {
      type: 'object',
      properties: { constructor: {} },
      required: ['constructor'],
    }
    expect(errorText('ctor', {}, requiringConstructor)).toBe(
      'Error: tool_name=<ctor> | missing required argument(s): constructor',
    )
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('rejects 10,000 levels of nesting, as an object or as text, without overflowing the stack', () => {
    let deep: unknown = 1
    for (let level = 0; level < 10_000; level += 1) deep = { a: deep }
    const text = `{"a":${'['.repeat(10_000)}${']'.repeat(10_000)}}`
    const tooDeep = 'Error: tool_name=<calculator> | tool input is nested too deeply (limit 64 levels)'
    expect(errorText('calculator', deep, calculator)).toBe(tooDeep)
    expect(errorText('calculator', text, calculator)).toBe(tooDeep)
    expect(errorText('calculator', { [INVALID_JSON_ARGUMENTS_KEY]: text }, calculator)).toBe(tooDeep)
  })

  it('stops at a cycle of a hand-built input', () => {
    const cyclic: Record<string, unknown> = { expression: '1' }
    cyclic.self = cyclic
    expect(errorText('calculator', cyclic, calculator)).toBe(
      'Error: tool_name=<calculator> | tool input is nested too deeply (limit 64 levels)',
    )
  })

  it('rejects a 10 MB string, raw or inside the input, within bounded time', () => {
    const tenMegabytes = 'x'.repeat(10 * 1024 * 1024)
    const tooLarge = 'Error: tool_name=<calculator> | tool input is too large (limit 1000000 characters)'
    const started = performance.now()
    expect(errorText('calculator', { expression: tenMegabytes }, calculator)).toBe(tooLarge)
    expect(errorText('calculator', JSON.stringify({ expression: tenMegabytes }), calculator)).toBe(tooLarge)
    expect(errorText('calculator', tenMegabytes, calculator)).toBe(tooLarge)
    expect(performance.now() - started).toBeLessThan(1_000)
  })

  it('counts keys, strings and values against maxInputCharacters', () => {
    expect(
      // the object 1 + the key 10 + 1 + the value 1 + its 5 characters
      errorText('calculator', { expression: '12345' }, calculator, { maxInputCharacters: 18 }),
    ).toBeNull()
    expect(errorText('calculator', { expression: '123456' }, calculator, { maxInputCharacters: 18 })).toBe(
      'Error: tool_name=<calculator> | tool input is too large (limit 18 characters)',
    )
    const manyNumbers = { expression: '1', list: Array.from({ length: 100 }, () => 0) }
    expect(errorText('free', manyNumbers, undefined, { maxInputCharacters: 100 })).toBe(
      'Error: tool_name=<free> | tool input is too large (limit 100 characters)',
    )
  })

  it('never throws for arbitrary JSON and answers the same for a value and its JSON text', () => {
    const keys = fc.constantFrom(
      'city',
      'nights',
      'room',
      'guest',
      'extras',
      'note',
      '__proto__',
      'constructor',
    )
    const inputs = fc.oneof(fc.jsonValue(), fc.dictionary(keys, fc.jsonValue()))
    fc.assert(
      fc.property(inputs, (value) => {
        const first = errorText('book', value, booking)
        expect(first === null || first.startsWith('Error: tool_name=<book> | ')).toBe(true)
        // a string input is itself JSON text, so only non-strings have a distinct text form
        if (typeof value !== 'string') expect(errorText('book', JSON.stringify(value), booking)).toBe(first)
      }),
      { numRuns: 500 },
    )
  })
})

describe('checkToolInput', () => {
  it('names the kind of each problem', () => {
    const kinds = [
      '{',
      [],
      { expression: 'x'.repeat(2_000_000) },
      { expression: '1', nested: [[[[]]]] },
      {},
      { expression: '1', other: 1 },
      { expression: 1 },
    ].map((input) => checkToolInput('calculator', input, calculator, { maxDepth: 3 })?.kind)
    expect(kinds).toEqual([
      'invalid-json',
      'not-an-object',
      'too-large',
      'too-deep',
      'missing-arguments',
      'unknown-arguments',
      'invalid-arguments',
    ])
    expect(checkToolInput('calculator', { expression: '1' }, calculator)).toBeNull()
  })

  it('keeps only the strands-vllm checks when fullSchemaValidation is false', () => {
    expect(
      checkToolInput('calculator', { expression: 1 }, calculator, { fullSchemaValidation: false }),
    ).toBeNull()
    expect(checkToolInput('calculator', {}, calculator, { fullSchemaValidation: false })?.message).toBe(
      'Error: tool_name=<calculator> | missing required argument(s): expression',
    )
  })
})

describe('resolveToolInputCheckOptions', () => {
  it('fills defaults and rejects limits that are not positive integers, and misspelt names', () => {
    expect(resolveToolInputCheckOptions('checkToolInput', { maxDepth: 8 })).toEqual({
      fullSchemaValidation: true,
      maxInputCharacters: 1_000_000,
      maxDepth: 8,
      maxViolationsInError: 10,
      maxViolationCharacters: 200,
    })
    expect(() => resolveToolInputCheckOptions('checkToolInput', { maxInputCharacters: -1 })).toThrow(
      'checkToolInput: option `maxInputCharacters` must be an integer >= 1, got -1',
    )
    expect(() => resolveToolInputCheckOptions('checkToolInput', { maxViolationsInError: 0 })).toThrow(
      'checkToolInput: option `maxViolationsInError` must be an integer >= 1, got 0',
    )
    expect(() => checkToolInput('calculator', {}, calculator, { maxdepth: 3 } as never)).toThrow(
      'checkToolInput: unknown option `maxdepth` (did you mean `maxDepth`?); known options: fullSchemaValidation, maxInputCharacters, maxDepth, maxViolationsInError, maxViolationCharacters',
    )
    expect(() => checkToolInput('calculator', {}, calculator, { maxDepth: 0 })).toThrow(InvalidOptionError)
  })
})

describe('review: violation lists stay exact and bounded for inputs within the limits', () => {
  const nullableStrings = {
    type: 'object',
    properties: { tags: { type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'null' }] } } },
  }

  it('folds the anyOf of every failing array item, not only when a single item fails', () => {
    expect(errorText('tagger', { tags: [1] }, nullableStrings)).toBe(
      'Error: tool_name=<tagger> | invalid argument(s): tags[0]: must be string or null',
    )
    expect(errorText('tagger', { tags: [1, 'ok', true] }, nullableStrings)).toBe(
      'Error: tool_name=<tagger> | invalid argument(s): tags[0]: must be string or null; tags[2]: must be string or null',
    )
  })

  it('keeps a nested anyOf folded into its outer one', () => {
    const nested = {
      type: 'object',
      properties: {
        value: { anyOf: [{ anyOf: [{ type: 'string' }, { type: 'number' }] }, { type: 'null' }] },
      },
    }
    expect(errorText('nested', { value: true }, nested)).toBe(
      'Error: tool_name=<nested> | invalid argument(s): value: must be string or number or null',
    )
  })

  it('answers 20,000 failing anyOf items (a 60 kB input) in well under a second', () => {
    const started = performance.now()
    const message = errorText('tagger', { tags: Array.from({ length: 20_000 }, () => 1) }, nullableStrings)
    const elapsed = performance.now() - started
    expect(message).toBe(
      'Error: tool_name=<tagger> | invalid argument(s): tags[0]: must be string or null; tags[10000]: must be string or null; ' +
        'tags[10001]: must be string or null; tags[10002]: must be string or null; tags[10003]: must be string or null; ' +
        'tags[10004]: must be string or null; tags[10005]: must be string or null; tags[10006]: must be string or null; ' +
        'tags[10007]: must be string or null; tags[10008]: must be string or null; ... (+19990 more)',
    )
    expect(elapsed).toBeLessThan(1_000)
  })

  it('never cuts a violation inside a surrogate pair', () => {
    const strict = {
      type: 'object',
      properties: { guest: { type: 'object', properties: {}, additionalProperties: false } },
    }
    // `guest["aaa…😀"]: is not allowed` cut at 12 code units would end in half of the emoji
    const message = errorText('book', { guest: { 'aaa😀': 1 } }, strict, {
      maxViolationCharacters: 12,
    })
    expect(message).toBe('Error: tool_name=<book> | invalid argument(s): guest["aaa…')
    // no lone high surrogate (U+D800–U+DBFF) is left before the ellipsis
    expect(message).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/)
  })

  it('counts every array item against maxInputCharacters before walking it (empty strings included)', () => {
    const started = performance.now()
    expect(errorText('free', { list: Array.from({ length: 2_000_000 }, () => '') }, undefined)).toBe(
      'Error: tool_name=<free> | tool input is too large (limit 1000000 characters)',
    )
    expect(performance.now() - started).toBeLessThan(1_500)
  })
})
