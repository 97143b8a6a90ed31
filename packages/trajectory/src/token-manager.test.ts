import { VLLMTitoError } from '@vllm-tito/spec'
import { describe, expect, it } from 'vitest'
import { catchError } from './__fixtures__/records'
import { LogprobLengthError, TokenInputError } from './errors'
import { TokenManager } from './token-manager'

describe('TokenManager', () => {
  it('flattens prompt and response segments with loss masks and logprobs (Python parity)', () => {
    const manager = new TokenManager()
    manager.addPrompt([1, 2, 3])
    manager.addResponse([4, 5], [-0.1, -0.2])
    manager.addPrompt([6])
    manager.addResponse([7, 8])
    expect(manager.tokenIds).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(manager.lossMask).toEqual([0, 0, 0, 1, 1, 0, 1, 1])
    expect(manager.logprobs).toEqual([null, null, null, -0.1, -0.2, null, null, null])
    expect(manager.segmentInfo).toEqual([
      [false, 3],
      [true, 2],
      [false, 1],
      [true, 2],
    ])
    expect(manager.length).toBe(8)
    expect(manager.outputLength).toBe(4)
    expect(manager.tokens.slice(2, 4)).toEqual([
      { tokenId: 3, logprob: null, lossMask: 0 },
      { tokenId: 4, logprob: -0.1, lossMask: 1 },
    ])
    expect(manager.segments[1]).toEqual({
      tokenIds: [4, 5],
      logprobs: [-0.1, -0.2],
      isOutput: true,
      logprobsDropped: false,
    })
  })

  it('ignores empty adds, as Python does', () => {
    const manager = new TokenManager({ strict: true })
    manager.addPrompt([])
    manager.addResponse([], [])
    expect(manager.length).toBe(0)
    expect(manager.segments).toEqual([])
  })

  it('copies input arrays so later caller changes do not leak in', () => {
    const manager = new TokenManager()
    const ids = [1, 2]
    const logprobs = [-1, -2]
    manager.addResponse(ids, logprobs)
    ids[0] = 99
    logprobs[0] = 0
    expect(manager.tokenIds).toEqual([1, 2])
    expect(manager.segments[0]!.tokenIds).toEqual([1, 2])
    expect(manager.logprobs).toEqual([-1, -2])
  })

  it('non-strict: drops a wrong-length logprobs array as a whole (null entries), never pads', () => {
    const manager = new TokenManager()
    manager.addResponse([4, 5, 6], [-0.1, -0.2])
    expect(manager.logprobs).toEqual([null, null, null])
    expect(manager.segments[0]!.logprobsDropped).toBe(true)
    expect(manager.segments[0]!.logprobs).toBeNull()
  })

  it('strict: throws LogprobLengthError and leaves the manager unchanged', () => {
    const manager = new TokenManager({ strict: true })
    manager.addPrompt([1])
    const error = catchError(() => manager.addResponse([4, 5, 6], [-0.1, -0.2]))
    expect(LogprobLengthError.isInstance(error)).toBe(true)
    expect(VLLMTitoError.isInstance(error)).toBe(true)
    expect((error as LogprobLengthError).tokenCount).toBe(3)
    expect((error as LogprobLengthError).logprobCount).toBe(2)
    expect((error as Error).message).toBe(
      'response logprobs length (2) must equal its token ids length (3); logprobs are never padded or truncated',
    )
    expect(manager.tokenIds).toEqual([1])
    expect(manager.strict).toBe(true)
  })

  it('keeps explicit null logprob entries', () => {
    const manager = new TokenManager({ strict: true })
    manager.addResponse([4, 5], [null, -0.5])
    expect(manager.logprobs).toEqual([null, -0.5])
  })

  it('rejects bad ids and logprobs with a typed error naming the position', () => {
    const manager = new TokenManager()
    expect(() => manager.addPrompt([1, -2])).toThrowError(
      'prompt token ids[1] is -2, not a token id (an integer from 0 to 4294967295)',
    )
    expect(() => manager.addResponse([1, 2.5])).toThrowError(TokenInputError)
    expect(() => manager.addResponse('12' as unknown as number[])).toThrowError(
      'response token ids is the string "12", not an array of token ids',
    )
    expect(() => manager.addResponse([1], [Number.NaN])).toThrowError(
      'response logprobs[0] is NaN, not a finite number or null',
    )
    const error = catchError(() => manager.addPrompt([0, 1, Number.POSITIVE_INFINITY]))
    expect(TokenInputError.isInstance(error)).toBe(true)
    expect((error as TokenInputError).field).toBe('tokenIds')
    expect((error as TokenInputError).index).toBe(2)
    expect(manager.length).toBe(0)
  })

  it('reads reuse one array extended with new tokens; reset keeps earlier arrays intact', () => {
    const manager = new TokenManager()
    manager.addPrompt([1, 2])
    const view = manager.tokenIds
    manager.addResponse([3])
    expect(manager.tokenIds).toBe(view)
    expect(view).toEqual([1, 2, 3])
    expect(manager.tokenIds).toBe(view)
    manager.reset()
    expect(manager.length).toBe(0)
    expect(manager.tokenIds).toEqual([])
    expect(view).toEqual([1, 2, 3])
  })

  it('extends the loss mask with only the segments appended since the previous read', () => {
    const manager = new TokenManager()
    manager.addPrompt([1, 2])
    manager.addResponse([3])
    const mask = manager.lossMask
    expect(mask).toEqual([0, 0, 1])
    manager.addResponse([4, 5])
    manager.addPrompt([6])
    manager.addResponse([7])
    expect(manager.lossMask).toBe(mask)
    expect(mask).toEqual([0, 0, 1, 1, 1, 0, 1])
    manager.reset()
    manager.addResponse([8])
    manager.addPrompt([9, 10])
    expect(manager.lossMask).toEqual([1, 0, 0])
    expect(mask).toEqual([0, 0, 1, 1, 1, 0, 1])
  })

  it('toJSON returns independent copies', () => {
    const manager = new TokenManager()
    manager.addPrompt([1])
    manager.addResponse([2], [-0.5])
    const snapshot = manager.toJSON()
    manager.addPrompt([3])
    expect(snapshot).toEqual({
      tokenIds: [1, 2],
      lossMask: [0, 1],
      logprobs: [null, -0.5],
      segmentInfo: [
        [false, 1],
        [true, 1],
      ],
    })
    expect(JSON.parse(JSON.stringify(manager)).tokenIds).toEqual([1, 2, 3])
  })

  it('keeps ids, masks and logprobs exact across storage chunk boundaries (64K tokens)', () => {
    const manager = new TokenManager({ strict: true })
    const prompt = Array.from({ length: 65_530 }, (_, index) => index)
    const response = Array.from({ length: 20 }, (_, index) => 200_000 + index)
    const logprobs = response.map((_, index) => -index / 8)
    manager.addPrompt(prompt)
    expect(manager.tokenIds.length).toBe(65_530)
    manager.addResponse(response, logprobs)
    manager.addPrompt([7])
    expect(manager.length).toBe(65_551)
    expect(manager.tokenIds.slice(65_528, 65_540)).toEqual([65_528, 65_529, ...response.slice(0, 10)])
    expect(manager.lossMask.slice(65_529, 65_531)).toEqual([0, 1])
    expect(manager.logprobs.slice(65_530, 65_551)).toEqual([...logprobs, null])
    expect(manager.segments[1]).toEqual({
      tokenIds: response,
      logprobs,
      isOutput: true,
      logprobsDropped: false,
    })
    expect(manager.tokenIds.at(-1)).toBe(7)
  })
})
