import { beforeAll, describe, expect, it } from 'vitest'
import {
  chatLogprobEntry,
  completionLogprobs,
  MIN_LOGPROB,
  makeLogprobs,
  type PositionLogprobs,
  promptLogprobs,
} from './logprobs'
import { loadQwen3Tokenizer, type Qwen3Tokenizer } from './qwen3-tokenizer'
import { SeededRandom } from './seeded-random'

let tokenizer: Qwen3Tokenizer

beforeAll(async () => {
  tokenizer = await loadQwen3Tokenizer()
})

/** A generator whose every draw is the same value, so every alternative gets the same id. */
class ConstantRandom extends SeededRandom {
  constructor(private readonly value: number) {
    super(0)
  }

  override next(): number {
    return this.value
  }
}

const range = (length: number) => Array.from({ length }, (_, index) => index)

/** Differences between consecutive candidates' logprobs of every position. */
function gaps(positions: PositionLogprobs[]): number[] {
  return positions.flatMap((position) =>
    position.candidates
      .slice(1)
      .map((candidate, index) => position.candidates[index]!.logprob - candidate.logprob),
  )
}

describe('makeLogprobs', () => {
  it('gives one position per sampled id, the sampled id first among `alternatives` + 1 candidates', () => {
    const ids = [9707, 0, 151645]
    const positions = makeLogprobs(ids, 3, new SeededRandom(1))
    expect(positions.map((position) => position.id)).toEqual(ids)
    for (const position of positions) {
      expect(position.candidates).toHaveLength(4)
      expect(position.candidates[0]).toEqual({ id: position.id, logprob: position.logprob })
    }
  })

  it('draws the sampled logprob from (-2.5, 0], over the whole range', () => {
    const logprobs = makeLogprobs(range(2000), 0, new SeededRandom(2)).map((position) => position.logprob)
    expect(logprobs.every((logprob) => logprob <= 0 && logprob > -2.5)).toBe(true)
    expect(Math.min(...logprobs)).toBeLessThan(-2)
    expect(Math.max(...logprobs)).toBeGreaterThan(-0.01)
  })

  it('puts each alternative 0.5 to 4.5 below the candidate before it, with ids from the base vocabulary', () => {
    const positions = makeLogprobs(range(400), 5, new SeededRandom(3))
    const all = gaps(positions)
    expect(all.every((gap) => gap >= 0.5 - 1e-9 && gap <= 4.5 + 1e-9)).toBe(true)
    expect(Math.min(...all)).toBeLessThan(0.6)
    expect(Math.max(...all)).toBeGreaterThan(4.4)
    const alternativeIds = positions.flatMap((position) =>
      position.candidates.slice(1).map((candidate) => candidate.id),
    )
    expect(alternativeIds.every((id) => Number.isInteger(id) && id >= 0 && id < 151_643)).toBe(true)
    expect(Math.max(...alternativeIds)).toBeGreaterThan(140_000)
  })

  it('clamps logprobs at vLLM’s -9999.0 once the alternatives run that low', () => {
    expect(MIN_LOGPROB).toBe(-9999)
    const [position] = makeLogprobs([9707], 6000, new SeededRandom(4))
    const logprobs = position!.candidates.map((candidate) => candidate.logprob)
    expect(logprobs.every((logprob) => logprob >= -9999)).toBe(true)
    expect(logprobs.at(-1)).toBe(-9999)
    expect(logprobs.filter((logprob) => logprob > -9999).length).toBeGreaterThan(1000)
  })

  it('is deterministic for a seed and differs between seeds', () => {
    const ids = [9707, 0, 151645]
    expect(makeLogprobs(ids, 2, new SeededRandom(5))).toEqual(makeLogprobs(ids, 2, new SeededRandom(5)))
    expect(makeLogprobs(ids, 2, new SeededRandom(6))).not.toEqual(makeLogprobs(ids, 2, new SeededRandom(5)))
  })
})

const hello: PositionLogprobs = {
  id: 9707,
  logprob: -0.25,
  candidates: [
    { id: 9707, logprob: -0.25 },
    { id: 0, logprob: -1.5 },
    { id: 151645, logprob: -3 },
  ],
}

describe('chatLogprobEntry', () => {
  it('gives the decoded token, its UTF-8 bytes and the first `top_logprobs` candidates (sampled one first)', () => {
    expect(chatLogprobEntry(hello, 2, false, tokenizer)).toEqual({
      token: 'Hello',
      logprob: -0.25,
      bytes: [72, 101, 108, 108, 111],
      top_logprobs: [
        { token: 'Hello', logprob: -0.25, bytes: [72, 101, 108, 108, 111] },
        { token: '!', logprob: -1.5, bytes: [33] },
      ],
    })
    expect(chatLogprobEntry(hello, 0, false, tokenizer).top_logprobs).toEqual([])
  })

  it('as token ids: `token_id:N` tokens, the entry keeps the decoded text’s bytes, top_logprobs the bytes of `token_id:N`', () => {
    const bytesOf = (text: string) => [...new TextEncoder().encode(text)]
    expect(chatLogprobEntry(hello, 3, true, tokenizer)).toEqual({
      token: 'token_id:9707',
      logprob: -0.25,
      bytes: bytesOf('Hello'),
      top_logprobs: [
        { token: 'token_id:9707', logprob: -0.25, bytes: bytesOf('token_id:9707') },
        { token: 'token_id:0', logprob: -1.5, bytes: bytesOf('token_id:0') },
        { token: 'token_id:151645', logprob: -3, bytes: bytesOf('token_id:151645') },
      ],
    })
  })
})

describe('completionLogprobs', () => {
  it('gives text offsets from `textOffset`, the sampled logprobs, the tokens and a top map per position', () => {
    const [helloId, worldId] = tokenizer.encode('Hello world')
    const world: PositionLogprobs = {
      id: worldId!,
      logprob: -0.75,
      candidates: [
        { id: worldId!, logprob: -0.75 },
        { id: 0, logprob: -2 },
      ],
    }
    expect(helloId).toBe(hello.id)
    expect(completionLogprobs([hello, world], ['Hello', ' world'], 10, false, tokenizer)).toEqual({
      text_offset: [10, 15],
      token_logprobs: [-0.25, -0.75],
      tokens: ['Hello', ' world'],
      top_logprobs: [
        { Hello: -0.25, '!': -1.5, '<|im_end|>': -3 },
        { ' world': -0.75, '!': -2 },
      ],
    })
  })

  it('collapses candidates with the same token string into the first (likeliest) one, as vLLM does', () => {
    // two byte pieces of one CJK character: each alone decodes to U+FFFD
    const [first, second] = tokenizer.encode('龘')
    expect(tokenizer.decode([first!])).toBe('\uFFFD')
    expect(tokenizer.decode([second!])).toBe('\uFFFD')
    const position: PositionLogprobs = {
      id: first!,
      logprob: -1,
      candidates: [
        { id: first!, logprob: -1 },
        { id: second!, logprob: -2 },
        { id: first!, logprob: -3 },
      ],
    }
    expect(completionLogprobs([position], [''], 0, false, tokenizer).top_logprobs).toEqual([{ '\uFFFD': -1 }])
  })

  it('as token ids: tokens and top map keys read `token_id:N`', () => {
    expect(completionLogprobs([hello], ['Hello'], 0, true, tokenizer)).toEqual({
      text_offset: [0],
      token_logprobs: [-0.25],
      tokens: ['token_id:9707'],
      top_logprobs: [{ 'token_id:9707': -0.25, 'token_id:0': -1.5, 'token_id:151645': -3 }],
    })
  })
})

describe('promptLogprobs', () => {
  it('is null for the first prompt token, then the makeLogprobs candidates of the same seed for the actual token, alternatives ranked 1..count', () => {
    const promptIds = tokenizer.encode('The quick brown fox jumps over the lazy dog')
    const result = promptLogprobs(promptIds, 2, new SeededRandom(7), tokenizer)
    const positions = makeLogprobs(promptIds.slice(1), 2, new SeededRandom(7))
    expect(result).toHaveLength(promptIds.length)
    expect(result[0]).toBeNull()
    positions.forEach((position, index) => {
      const entries = result[index + 1]!
      // (a JS object lists integer-like keys in ascending order, whatever the insertion order)
      expect(Object.keys(entries).sort()).toEqual(
        position.candidates.map((candidate) => String(candidate.id)).sort(),
      )
      expect(position.id).toBe(promptIds[index + 1])
      position.candidates.forEach((candidate, rank) => {
        const entry = entries[String(candidate.id)]!
        expect(entry.logprob).toBe(candidate.logprob)
        expect(entry.decoded_token).toBe(tokenizer.decode([candidate.id]))
        if (rank > 0) expect(entry.rank).toBe(rank)
      })
    })
  })

  it('draws the actual token’s rank from 1..count+1', () => {
    const promptIds = range(400)
    const ranks = promptLogprobs(promptIds, 1, new SeededRandom(8), tokenizer)
      .slice(1)
      .map((entries, index) => entries![String(promptIds[index + 1])]!.rank)
    expect(new Set(ranks)).toEqual(new Set([1, 2]))
  })

  it('with count 0 gives only the actual token, its rank drawn from 1..20', () => {
    const promptIds = range(400)
    const result = promptLogprobs(promptIds, 0, new SeededRandom(9), tokenizer).slice(1)
    expect(result.every((entries) => Object.keys(entries!).length === 1)).toBe(true)
    const ranks = result.map((entries, index) => entries![String(promptIds[index + 1])]!.rank)
    expect(new Set(ranks)).toEqual(new Set(range(20).map((index) => index + 1)))
  })

  it('keeps the first (best) rank of an id that recurs among the candidates', () => {
    // every draw is 0.5: all three alternatives are the same id, the actual rank is 1 + floor(0.5 * 4) = 3
    const [position] = makeLogprobs([0], 3, new ConstantRandom(0.5))
    const alternative = position!.candidates[1]!
    expect(position!.candidates.slice(1).every((candidate) => candidate.id === alternative.id)).toBe(true)
    expect(promptLogprobs([9707, 0], 3, new ConstantRandom(0.5), tokenizer)[1]).toEqual({
      '0': { logprob: position!.logprob, rank: 3, decoded_token: '!' },
      [String(alternative.id)]: {
        logprob: alternative.logprob,
        rank: 1,
        decoded_token: tokenizer.decode([alternative.id]),
      },
    })
  })
})
