import { INVALID_JSON_ARGUMENTS_KEY, unwrapInvalidJsonArguments } from '@vllm-tito/spec'
import { describe, expect, it } from 'vitest'
import { MAX_PARSED_ARGUMENT_DEPTH, toToolInputJson } from './invalid-json-arguments'

describe('toToolInputJson', () => {
  it('passes valid JSON through and gives {} for empty arguments', () => {
    expect(toToolInputJson('{"expression": "2+2"}')).toBe('{"expression": "2+2"}')
    expect(toToolInputJson('')).toBe('{}')
  })

  it('wraps malformed JSON so the invocation never aborts, and unwraps it back verbatim', () => {
    const raw = '{"expression": "2+'
    const json = toToolInputJson(raw)
    expect(JSON.parse(json)).toEqual({ [INVALID_JSON_ARGUMENTS_KEY]: raw })
    expect(unwrapInvalidJsonArguments(JSON.parse(json))).toBe(raw)
    expect(unwrapInvalidJsonArguments({ expression: '1' })).toBeUndefined()
  })

  it('wraps valid JSON nested deeper than the SDK can copy, but not brackets inside strings', () => {
    const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`
    expect(JSON.parse(toToolInputJson(deep))).toEqual({ [INVALID_JSON_ARGUMENTS_KEY]: deep })
    const atLimit = `${'['.repeat(MAX_PARSED_ARGUMENT_DEPTH)}${']'.repeat(MAX_PARSED_ARGUMENT_DEPTH)}`
    expect(toToolInputJson(atLimit)).toBe(atLimit)
    const bracketsInString = JSON.stringify({ text: '['.repeat(5_000), quote: '\\"[' })
    expect(toToolInputJson(bracketsInString)).toBe(bracketsInString)
  })
})
