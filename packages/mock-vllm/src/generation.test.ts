import { beforeAll, describe, expect, it } from 'vitest'
import { runEngine, tokenizeReply } from './generation'
import { loadQwen3Tokenizer, type Qwen3Tokenizer } from './qwen3-tokenizer'
import { SeededRandom } from './seeded-random'

let tokenizer: Qwen3Tokenizer

beforeAll(async () => {
  tokenizer = await loadQwen3Tokenizer()
})

const unlimited = { maxTokens: 1000, stop: [], stopTokenIds: [] }

describe('tokenizeReply', () => {
  it('is canonical at rate 0', () => {
    expect(tokenizeReply(tokenizer, 'HAVING fun', 0, new SeededRandom(1))).toEqual(
      tokenizer.encode('HAVING fun'),
    )
  })

  it('splits HAVING into two single tokens that decode the same but re-encode differently', () => {
    const ids = tokenizeReply(tokenizer, 'HAVING', 1, new SeededRandom(1))
    expect(ids).toHaveLength(2)
    expect(ids).not.toEqual([72239, 1718])
    expect(tokenizer.decode(ids)).toBe('HAVING')
    expect(tokenizer.encode(tokenizer.decode(ids))).toEqual([72239, 1718])
  })

  it('drifts at rate 0.5 deterministically for a seed and keeps the text', () => {
    const text = 'The engine was HAVING trouble understanding everything the travellers said yesterday.'
    const first = tokenizeReply(tokenizer, text, 0.5, new SeededRandom(7))
    const second = tokenizeReply(tokenizer, text, 0.5, new SeededRandom(7))
    expect(first).toEqual(second)
    expect(tokenizer.decode(first)).toBe(text)
    expect(first).not.toEqual(tokenizer.encode(text))
    expect(tokenizeReply(tokenizer, text, 0.5, new SeededRandom(8))).not.toEqual(first)
  })

  it('re-splits only words: punctuation, digits and special tokens keep their canonical ids', () => {
    const text = '{"a": 12, "b": [3.5]}<|im_end|>'
    expect(tokenizeReply(tokenizer, text, 1, new SeededRandom(3))).toEqual(tokenizer.encode(text))
  })
})

describe('runEngine', () => {
  it('stops on <|im_end|> with stop_reason null and keeps its id but not its text', () => {
    const generation = runEngine(tokenizer, [9707, 0, 151645], unlimited)
    expect(generation).toEqual({
      ids: [9707, 0, 151645],
      texts: ['Hello', '!', ''],
      finishReason: 'stop',
      stopReason: null,
    })
  })

  it('stops on a stop token id with the int stop_reason', () => {
    const generation = runEngine(tokenizer, [9707, 0, 151645], { ...unlimited, stopTokenIds: [0] })
    expect(generation).toEqual({ ids: [9707, 0], texts: ['Hello', ''], finishReason: 'stop', stopReason: 0 })
  })

  it('stops on <|endoftext|> with stop_reason 151643', () => {
    expect(runEngine(tokenizer, [9707, 151643, 0], unlimited).stopReason).toBe(151643)
  })

  it('stops on a stop string, cutting the text before it and keeping the id that completed it', () => {
    const ids = tokenizer.encode('one two three four')
    const generation = runEngine(tokenizer, ids, { ...unlimited, stop: [' thr'] })
    expect(generation.finishReason).toBe('stop')
    expect(generation.stopReason).toBe(' thr')
    expect(generation.ids).toEqual(ids.slice(0, 3))
    expect(generation.texts.join('')).toBe('one two')
  })

  it('finishes with length at max_tokens', () => {
    const generation = runEngine(tokenizer, [9707, 0, 151645], { ...unlimited, maxTokens: 2 })
    expect(generation).toEqual({
      ids: [9707, 0],
      texts: ['Hello', '!'],
      finishReason: 'length',
      stopReason: null,
    })
  })

  it('holds back an incomplete UTF-8 sequence until its last byte', () => {
    const ids = tokenizer.encode('𝔘')
    expect(ids.length).toBeGreaterThan(1)
    const generation = runEngine(tokenizer, [...ids, 151645], unlimited)
    expect(generation.texts.slice(0, -2).every((text) => text === '')).toBe(true)
    expect(generation.texts.join('')).toBe('𝔘')
  })
})
