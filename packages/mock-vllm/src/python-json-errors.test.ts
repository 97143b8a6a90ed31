import { describe, expect, it } from 'vitest'
import { pythonJsonError } from './python-json-errors'

// Every expected text below is what CPython's `json.loads` printed for the input (`str(JSONDecodeError)`),
// collected once with CPython 3.11 (the messages are the same in 3.12, the version vLLM's images run).
const pythonErrors: Array<[string, string]> = [
  ['{"expression": 2+2}', "Expecting ',' delimiter: line 1 column 17 (char 16)"],
  ['', 'Expecting value: line 1 column 1 (char 0)'],
  [' ', 'Expecting value: line 1 column 2 (char 1)'],
  ['{"a": 1', "Expecting ',' delimiter: line 1 column 8 (char 7)"],
  ['{"a" 1}', "Expecting ':' delimiter: line 1 column 6 (char 5)"],
  ['{a: 1}', 'Expecting property name enclosed in double quotes: line 1 column 2 (char 1)'],
  ['{"a": "x', 'Unterminated string starting at: line 1 column 7 (char 6)'],
  ['[1,]', 'Expecting value: line 1 column 4 (char 3)'],
  ['{"a":1,}', 'Expecting property name enclosed in double quotes: line 1 column 8 (char 7)'],
  ['{"a": 1} x', 'Extra data: line 1 column 10 (char 9)'],
  ['nul', 'Expecting value: line 1 column 1 (char 0)'],
  ['{"a": "\\q"}', 'Invalid \\escape: line 1 column 8 (char 7)'],
  ['{"a": "\u0001"}', 'Invalid control character at: line 1 column 8 (char 7)'],
  ['"\\u12"', 'Invalid \\uXXXX escape: line 1 column 3 (char 2)'],
  ['"\\u1234', 'Invalid \\uXXXX escape: line 1 column 3 (char 2)'],
  ['"\\ud800\\uZZZZ"', 'Invalid \\uXXXX escape: line 1 column 9 (char 8)'],
  ['{"a": -}', 'Expecting value: line 1 column 7 (char 6)'],
  ['{"a": 01}', "Expecting ',' delimiter: line 1 column 8 (char 7)"],
  ['[1 2]', "Expecting ',' delimiter: line 1 column 4 (char 3)"],
  ['{"a": 1.}', "Expecting ',' delimiter: line 1 column 8 (char 7)"],
  ['{"a": tru}', 'Expecting value: line 1 column 7 (char 6)'],
  ['[', 'Expecting value: line 1 column 2 (char 1)'],
  ['{', 'Expecting property name enclosed in double quotes: line 1 column 2 (char 1)'],
  ['{"a": 1}}', 'Extra data: line 1 column 9 (char 8)'],
  ['{"expression": "2+2"', "Expecting ',' delimiter: line 1 column 21 (char 20)"],
  ['{"expression": "2+2}', 'Unterminated string starting at: line 1 column 16 (char 15)'],
  ['"é\n', 'Invalid control character at: line 1 column 3 (char 2)'],
  ['{"é": x}', 'Expecting value: line 1 column 7 (char 6)'],
  ['{"a":[1,2', "Expecting ',' delimiter: line 1 column 10 (char 9)"],
  ['1e', 'Extra data: line 1 column 2 (char 1)'],
  ['-0.5e+3x', 'Extra data: line 1 column 8 (char 7)'],
  ['"\\ud83d\\ude00" 1', 'Extra data: line 1 column 16 (char 15)'],
  ['true false', 'Extra data: line 1 column 6 (char 5)'],
  ['{"a":\n x}', 'Expecting value: line 2 column 2 (char 7)'],
  // an astral character counts once in Python's positions, twice in a JavaScript string
  ['{"😀": x}', 'Expecting value: line 1 column 7 (char 6)'],
]

describe('pythonJsonError', () => {
  it.each(pythonErrors)('reports %j as CPython does', (text, expected) => {
    expect(pythonJsonError(text)).toBe(expected)
  })

  it('accepts what Python accepts, including NaN and Infinity', () => {
    for (const text of [
      '{"expression": "2+2"}',
      ' [1, 2.5e-3, -0, "\\u00e9\\ud83d\\ude00"] ',
      'null',
      'NaN',
      '[-Infinity]',
    ]) {
      expect(pythonJsonError(text)).toBeUndefined()
    }
  })
})
