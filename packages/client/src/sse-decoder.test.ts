import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { SseDecoder } from './sse-decoder'

const encoder = new TextEncoder()

function decodeAll(pieces: Uint8Array[]): { payloads: string[]; unterminated: string } {
  const decoder = new SseDecoder()
  const payloads: string[] = []
  for (const piece of pieces) decoder.push(piece, payloads)
  const { unterminated } = decoder.end(payloads)
  return { payloads, unterminated }
}

describe('SseDecoder', () => {
  it('reads LF and CRLF framing, joins multi-line data, skips comments and other fields', () => {
    const text =
      ': a comment\n' +
      'data: {"a":1}\n\n' +
      'event: message\r\nid: 7\r\ndata:{"b":2}\r\n\r\n' +
      'data: first\ndata: second\n\n' +
      'retry: 10\n\n' +
      'data: [DONE]\n\n'
    expect(decodeAll([encoder.encode(text)])).toEqual({
      payloads: ['{"a":1}', '{"b":2}', 'first\nsecond', '[DONE]'],
      unterminated: '',
    })
  })

  it('delivers a complete data line at the end even without the closing blank line', () => {
    expect(decodeAll([encoder.encode('data: {"a":1}\n')])).toEqual({
      payloads: ['{"a":1}'],
      unterminated: '',
    })
  })

  it('returns an unterminated last line instead of a half payload', () => {
    expect(decodeAll([encoder.encode('data: {"a":1}\n\ndata: {"b"')])).toEqual({
      payloads: ['{"a":1}'],
      unterminated: 'data: {"b"',
    })
  })

  it('gives the same payloads for any split of the bytes, including inside multi-byte characters', () => {
    const payloads = ['{"content":"Café 🙂"}', '{"content":"日本語"}', '{"x":"\\n"}', '[DONE]']
    const bytes = encoder.encode(payloads.map((payload) => `data: ${payload}\n\n`).join(''))
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 40 }),
        (cuts) => {
          const sorted = [...cuts].sort((left, right) => left - right)
          const pieces: Uint8Array[] = []
          let start = 0
          for (const cut of sorted) {
            pieces.push(bytes.subarray(start, cut))
            start = cut
          }
          pieces.push(bytes.subarray(start))
          expect(decodeAll(pieces)).toEqual({ payloads, unterminated: '' })
        },
      ),
      { numRuns: 300 },
    )
  })
})
