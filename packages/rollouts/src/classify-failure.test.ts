import { ModelError, ModelThrottledError } from '@strands-agents/sdk'
import {
  APICallError,
  ContextOverflowError,
  StreamInterruptedError,
  TokenIdsMismatchError,
} from '@vllm-tito/spec'
import { describe, expect, it } from 'vitest'
import { classifyFailure, findRetryAfterSeconds } from './classify-failure'
import { InvalidTaskError, RolloutTimeoutError } from './errors'

const verdict = (error: unknown) => {
  const { kind, retryable, statusCode } = classifyFailure(error)
  return [kind, retryable, statusCode]
}

describe('classifyFailure', () => {
  it('retries timeouts, retryable statuses, broken streams and throttling, also inside a Strands ModelError', () => {
    expect(verdict(new RolloutTimeoutError(10))).toEqual(['timeout', true, null])
    expect(verdict(new APICallError({ message: 'busy', statusCode: 503 }))).toEqual(['api', true, 503])
    expect(verdict(new StreamInterruptedError('cut', []))).toEqual(['api', true, null])
    expect(verdict(new ModelThrottledError('slow down'))).toEqual(['api', true, 429])
    const wrapped = new ModelError('the model call failed', {
      cause: new APICallError({ message: 'x', statusCode: 502 }),
    })
    expect(verdict(wrapped)).toEqual(['api', true, 502])
  })

  it('never retries a bad task, a client error, wrong token ids or the agent’s own error', () => {
    expect(verdict(new InvalidTaskError('no sandbox'))).toEqual(['bad-task', false, null])
    expect(verdict(new ContextOverflowError({ message: 'too long', statusCode: 400 }))).toEqual([
      'bad-task',
      false,
      400,
    ])
    expect(verdict(new APICallError({ message: 'unknown model', statusCode: 404 }))).toEqual([
      'api',
      false,
      404,
    ])
    expect(verdict(new StreamInterruptedError('bad request late', [], { statusCode: 400 }))).toEqual([
      'api',
      false,
      400,
    ])
    const mismatch = new TokenIdsMismatchError([], {
      status: 'mismatch',
      verified: false,
      promptIdsCount: 1,
      usagePromptTokens: 2,
      completionIdsCount: 1,
      usageCompletionTokens: 1,
      issues: ['prompt ids'],
    })
    expect(verdict(mismatch)).toEqual(['token-ids', false, null])
    expect(verdict(new TypeError('undefined is not a function'))).toEqual(['agent', false, null])
    expect(classifyFailure('a string')).toMatchObject({ kind: 'agent', message: 'thrown value: a string' })
  })

  it('finds a Retry-After along the cause chain', () => {
    const throttled = new APICallError({ message: 'slow', statusCode: 429, retryAfterSeconds: 7 })
    expect(findRetryAfterSeconds(new ModelError('wrapped', { cause: throttled }))).toBe(7)
    expect(findRetryAfterSeconds(new Error('plain'))).toBeUndefined()
  })
})
