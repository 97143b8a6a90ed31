import { describe, expect, it } from 'vitest'
import {
  APICallError,
  ContextOverflowError,
  isRetryableStatus,
  StreamInterruptedError,
  StreamingUnsupportedError,
  TokenIdsMismatchError,
  TokenIdsUnavailableError,
  VLLMTitoError,
} from './errors'
import { makeRecord } from './testing'

// a second, independent copy of the module, as when two versions of the package are installed
const secondCopyPath = './errors.ts?second-copy'
const secondCopy = (await import(/* @vite-ignore */ secondCopyPath)) as typeof import('./errors')

describe('error classes', () => {
  it('recognise errors created by a second copy of the module', () => {
    const foreign = new secondCopy.ContextOverflowError({ message: 'too long', statusCode: 400 })
    expect(foreign).not.toBeInstanceOf(ContextOverflowError)
    expect(ContextOverflowError.isInstance(foreign)).toBe(true)
    expect(APICallError.isInstance(foreign)).toBe(true)
    expect(VLLMTitoError.isInstance(foreign)).toBe(true)
    expect(TokenIdsUnavailableError.isInstance(foreign)).toBe(false)
  })

  it('keep each subclass marker distinct', () => {
    const record = makeRecord()
    const errors = [
      new APICallError({ message: 'x', statusCode: 500 }),
      new TokenIdsUnavailableError([record]),
      new TokenIdsMismatchError([record], record.verification),
      new StreamInterruptedError('dropped', [record]),
    ]
    expect(errors.map((error) => APICallError.isInstance(error))).toEqual([true, false, false, false])
    expect(errors.map((error) => ContextOverflowError.isInstance(error))).toEqual([
      false,
      false,
      false,
      false,
    ])
    expect(errors.map((error) => StreamInterruptedError.isInstance(error))).toEqual([
      false,
      false,
      false,
      true,
    ])
    expect(errors.every((error) => VLLMTitoError.isInstance(error))).toBe(true)
    expect(VLLMTitoError.isInstance(new Error('plain'))).toBe(false)
    expect(VLLMTitoError.isInstance(null)).toBe(false)
    expect(VLLMTitoError.isInstance('VLLMTitoError')).toBe(false)
  })

  it('carry status, retryability and body', () => {
    const error = new APICallError({
      message: 'slow down',
      statusCode: 429,
      responseBody: '{"error":{}}',
      retryAfterSeconds: 2,
    })
    expect(error.name).toBe('APICallError')
    expect(error.statusCode).toBe(429)
    expect(error.isRetryable).toBe(true)
    expect(error.responseBody).toBe('{"error":{}}')
    expect(error.retryAfterSeconds).toBe(2)
    expect(new ContextOverflowError({ message: 'long', statusCode: 400 }).isRetryable).toBe(false)
    expect(new APICallError({ message: 'bad', statusCode: 400 }).isRetryable).toBe(false)
  })

  it('classify retryable statuses as documented', () => {
    expect([undefined, 400, 404, 408, 409, 422, 429, 500, 503].map(isRetryableStatus)).toEqual([
      true,
      false,
      false,
      true,
      true,
      false,
      true,
      true,
      true,
    ])
  })

  it('keep the partial record of an interrupted stream', () => {
    const partial = { ...makeRecord(), complete: false }
    const error = new StreamInterruptedError('connection reset', [partial], { statusCode: 500 })
    expect(error.partialRecord).toBe(partial)
    expect(error.partialRecords).toEqual([partial])
    expect(error.statusCode).toBe(500)
    expect(error.message).toBe('connection reset')
  })

  it('mark a refused streaming call as a non-retryable APICallError of its own class', () => {
    const error = new StreamingUnsupportedError({
      message: 'streaming refused',
      statusCode: 400,
      isRetryable: true,
      responseBody: '{"detail":"Streaming responses are not supported"}',
    })
    expect(error.name).toBe('StreamingUnsupportedError')
    expect(error.isRetryable).toBe(false)
    expect(error.statusCode).toBe(400)
    expect(StreamingUnsupportedError.isInstance(error)).toBe(true)
    expect(APICallError.isInstance(error)).toBe(true)
    expect(ContextOverflowError.isInstance(error)).toBe(false)
    expect(StreamingUnsupportedError.isInstance(new APICallError({ message: 'x', statusCode: 400 }))).toBe(
      false,
    )
    const foreign = new secondCopy.StreamingUnsupportedError({ message: 'refused', statusCode: 400 })
    expect(StreamingUnsupportedError.isInstance(foreign)).toBe(true)
  })

  it('name the fix when token ids are unavailable', () => {
    const error = new TokenIdsUnavailableError([makeRecord()])
    expect(error.message).toContain('vLLM >= 0.10.2')
    expect(error.message).toContain('return_token_ids')
  })
})
