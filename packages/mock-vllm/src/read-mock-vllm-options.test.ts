import { InvalidOptionError } from '@vllm-tito/spec'
import { describe, expect, it } from 'vitest'
import type { MockVllmOptions } from './mock-vllm-options'
import { readMockVllmOptions } from './read-mock-vllm-options'
import { startMockVllm } from './start-mock-vllm'

/** The InvalidOptionError `read` throws, with the fields a caller sees. */
function refusal(read: () => unknown): {
  option: string
  message: string
  allowed: readonly string[] | undefined
} {
  try {
    read()
  } catch (error) {
    if (!InvalidOptionError.isInstance(error)) throw error
    return { option: error.option, message: error.message, allowed: error.allowed }
  }
  throw new Error('the options were accepted')
}

const bad = (options: unknown) => refusal(() => readMockVllmOptions(options))

describe('readMockVllmOptions', () => {
  it('fills in every default for no options', () => {
    expect(readMockVllmOptions(undefined)).toEqual({
      host: '127.0.0.1',
      port: 0,
      model: 'Qwen/Qwen3-8B',
      maxModelLen: 40_960,
      mode: 'current',
      policy: 'demo',
      nonCanonicalRate: 0,
      seed: 1,
      tokensPerChunk: 1,
      firstTokenDelayMs: 0,
      interChunkDelayMs: 0,
      faults: [],
      contextOverflowWording: 'newest',
      enableAutoToolChoice: true,
      reasoningParser: true,
      toolStreamQuirks: [],
      enableScaleOut: false,
    })
  })

  it('refuses a misspelt option, naming the closest known one', () => {
    expect(bad({ mdoe: 'current' })).toEqual({
      option: 'mdoe',
      message:
        'startMockVllm: unknown option `mdoe` (did you mean `mode`?); known options: host, port, model, maxModelLen, mode, policy, nonCanonicalRate, seed, pacing, faults, contextOverflowWording, enableAutoToolChoice, reasoningParser, toolStreamQuirks, enableScaleOut',
      allowed: expect.arrayContaining(['mode', 'pacing']),
    })
    expect(bad({ pacing: { tokensPerChunck: 2 } })).toMatchObject({
      option: 'tokensPerChunck',
      message: expect.stringMatching(
        /^startMockVllm pacing: unknown option `tokensPerChunck` \(did you mean `tokensPerChunk`\?\)/,
      ),
    })
  })

  it('names the option and what it accepts for a wrong value', () => {
    expect(bad({ mode: 'v9' }).message).toBe(
      "startMockVllm: option `mode` must be one of 'current', 'strict-0.20', 'legacy-0.10', 'pre-0.10.2', got the string \"v9\"",
    )
    expect(bad({ nonCanonicalRate: 2 }).message).toBe(
      'startMockVllm: option `nonCanonicalRate` must be within 0..1, got 2',
    )
    expect(bad({ port: 70_000 }).message).toBe(
      'startMockVllm: option `port` must be an integer from 0 to 65535, got 70000',
    )
    expect(bad({ maxModelLen: 0 }).message).toBe(
      'startMockVllm: option `maxModelLen` must be an integer >= 1, got 0',
    )
    expect(bad({ pacing: { tokensPerChunk: 0 } }).message).toBe(
      'startMockVllm pacing: option `tokensPerChunk` must be an integer >= 1, got 0',
    )
    expect(bad({ pacing: { interChunkDelayMs: -5 } }).message).toBe(
      'startMockVllm pacing: option `interChunkDelayMs` must be a number of milliseconds >= 0, got -5',
    )
    expect(bad({ contextOverflowWording: 'v0.9' }).option).toBe('contextOverflowWording')
    expect(bad({ enableAutoToolChoice: 'yes' }).message).toBe(
      'startMockVllm: option `enableAutoToolChoice` must be `true` or `false`, got the string "yes"',
    )
    expect(bad({ toolStreamQuirks: ['late-names'] })).toEqual({
      option: 'toolStreamQuirks',
      message:
        'startMockVllm: option `toolStreamQuirks` entries must be one of arguments-in-finish-chunk, one-piece-arguments, drop-empty-arguments, required-name-null, got late-names',
      allowed: [
        'arguments-in-finish-chunk',
        'one-piece-arguments',
        'drop-empty-arguments',
        'required-name-null',
      ],
    })
    expect(bad('fast').message).toBe('startMockVllm: options must be an object, got the string "fast"')
  })

  it('checks the policy key by key', () => {
    expect(bad({ policy: { random: { tokens: 0 } } }).message).toBe(
      'startMockVllm policy.random: option `tokens` must be an integer >= 1, got 0',
    )
    expect(bad({ policy: { scirpt: ['hi'] } }).message).toMatch(
      /^startMockVllm policy: unknown option `scirpt` \(did you mean `script`\?\)/,
    )
    const shapes =
      "startMockVllm: option `policy` must be 'demo', { random: { tokens } } or { script } (a non-empty array of strings and functions, or one function)"
    expect(bad({ policy: { script: [] } }).message).toBe(shapes)
    expect(bad({ policy: { script: ['hi', 3] } }).message).toBe(shapes)
    expect(bad({ policy: 'smart' }).message).toBe(`${shapes}, got the string "smart"`)
    expect(readMockVllmOptions({ policy: { script: ['a', () => 'b'] } }).policy).toMatchObject({
      script: ['a', expect.any(Function)],
    })
  })

  it('checks each fault: its kind, the keys that kind takes, and when it applies', () => {
    expect(bad({ faults: [{ kind: 'reset', afterChunks: -1 }] }).message).toBe(
      'startMockVllm faults[0]: option `afterChunks` must be an integer >= 0, got -1',
    )
    expect(bad({ faults: [{ kind: 'http-status', status: 418 }] }).message).toBe(
      'startMockVllm faults[0]: option `status` must be 429, 500 or 503, got 418',
    )
    expect(bad({ faults: [{ kind: 'stall', afterChunks: 1, msec: 10 }] }).message).toMatch(
      /^startMockVllm faults\[0\]: unknown option `msec` \(did you mean `ms`\?\)/,
    )
    expect(bad({ faults: [{ kind: 'explode' }] }).allowed).toEqual([
      'http-status',
      'reset',
      'stall',
      'malformed-chunk',
      'mid-stream-error',
      'wrong-token-ids-type',
      'missing-done',
    ])
    expect(bad({ faults: [{ kind: 'missing-done', when: { probability: 1.5 } }] }).message).toBe(
      'startMockVllm faults[0].when: option `probability` must be a number from 0 to 1, got 1.5',
    )
    expect(bad({ faults: { kind: 'reset' } }).message).toMatch(
      /^startMockVllm: option `faults` must be an array of faults, got /,
    )
  })

  it('makes startMockVllm reject before anything listens', async () => {
    const options = { mdoe: 'current' } as MockVllmOptions
    const error = await startMockVllm(options).catch((caught: unknown) => caught)
    expect(InvalidOptionError.isInstance(error)).toBe(true)
    expect((error as InvalidOptionError).option).toBe('mdoe')
  })
})
