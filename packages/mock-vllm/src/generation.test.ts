import { beforeAll, describe, expect, it } from 'vitest'
import { runEngine, tokenizeReply } from './generation'
import { loadQwen3Tokenizer, type Qwen3Tokenizer } from './qwen3-tokenizer'
import { SeededRandom } from './seeded-random'

let tokenizer: Qwen3Tokenizer

beforeAll(async () => {
  tokenizer = await loadQwen3Tokenizer()
})

const unlimited = { maxTokens: 1000, stop: [], stopTokenIds: [] }

/** Counts the values drawn (`nextInt` draws through `next`). */
class CountingRandom extends SeededRandom {
  draws = 0

  override next(): number {
    this.draws += 1
    return super.next()
  }
}

/** Every way to spell the word's canonical pieces as two vocabulary pieces, but the canonical pair itself. */
function twoPieceSpellings(word: string): string[] {
  const canonical = tokenizer.encode(word)
  const spelled = tokenizer.tokenStrings(canonical).join('')
  const spellings: string[] = []
  for (let cut = 1; cut < spelled.length; cut += 1) {
    const ids = [tokenizer.idOfPiece(spelled.slice(0, cut)), tokenizer.idOfPiece(spelled.slice(cut))]
    if (ids.every((id) => id !== undefined) && JSON.stringify(ids) !== JSON.stringify(canonical))
      spellings.push(JSON.stringify(ids))
  }
  return spellings
}

const seeds = (count: number) => Array.from({ length: count }, (_, index) => index + 1)

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
    const text = '{"a": 12, "b": [3.5]}<|im_end|><think>\n</think><tool_call>'
    expect(tokenizeReply(tokenizer, text, 1, new SeededRandom(3))).toEqual(tokenizer.encode(text))
  })

  it('at rate 0 draws nothing, so the generator’s later values do not depend on the reply', () => {
    const random = new CountingRandom(1)
    tokenizeReply(tokenizer, 'HAVING fun today', 0, random)
    expect(random.draws).toBe(0)
  })

  it('draws one value per word for the rate, one more only to pick among the word’s other spellings', () => {
    const draws = (text: string) => {
      const random = new CountingRandom(1)
      tokenizeReply(tokenizer, text, 1, random)
      return random.draws
    }
    expect(draws(', . 12')).toBe(0)
    // one letter, one byte: no other spelling
    expect(draws('a')).toBe(1)
    expect(draws('HAVING')).toBe(2)
    expect(draws('a Hello')).toBe(3)
  })

  it('re-splits about half the words at rate 0.5', () => {
    const canonical = tokenizer.encode('HAVING')
    const resplit = seeds(200).filter(
      (seed) =>
        JSON.stringify(tokenizeReply(tokenizer, 'HAVING', 0.5, new SeededRandom(seed))) !==
        JSON.stringify(canonical),
    )
    expect(resplit.length).toBeGreaterThan(70)
    expect(resplit.length).toBeLessThan(130)
  })

  it.each(['HAVING', 'trouble', 'Hello', ' travellers'])(
    're-splits %j, over many seeds, into exactly its two-piece spellings other than the canonical pair',
    (word) => {
      const spellings = twoPieceSpellings(word)
      expect(spellings.length).toBeGreaterThan(0)
      const seen = new Set(
        seeds(300).map((seed) => JSON.stringify(tokenizeReply(tokenizer, word, 1, new SeededRandom(seed)))),
      )
      expect(seen).toEqual(new Set(spellings))
    },
  )

  it("starts a word only at a letter token, optionally space-led: `'s` keeps its id, a word after a digit is re-split", () => {
    const its = tokenizer.encode("it's")
    const apostrophe = tokenizeReply(tokenizer, "it's", 1, new SeededRandom(1))
    expect(apostrophe).not.toEqual(its)
    expect(apostrophe.at(-1)).toBe(its.at(-1))
    const digit = tokenizeReply(tokenizer, '3HAVING', 1, new SeededRandom(1))
    expect(digit[0]).toBe(tokenizer.encode('3')[0])
    expect(digit.slice(1)).not.toEqual(tokenizer.encode('HAVING'))
    expect(tokenizer.decode(digit)).toBe('3HAVING')
  })

  it('ends a word before a special token', () => {
    const ids = tokenizeReply(tokenizer, 'Hello<|im_end|>', 1, new SeededRandom(1))
    expect(ids).toHaveLength(3)
    expect(ids.at(-1)).toBe(151645)
    expect(tokenizer.decode(ids)).toBe('Hello<|im_end|>')
  })

  it('neither starts nor continues a word with a piece that ends in an incomplete UTF-8 sequence', () => {
    // ' раб' = [' ра' + first byte of 'б', last byte of 'б']: no word at all
    const rab = tokenizer.encode(' раб')
    expect(tokenizer.decode(rab.slice(0, 1))).toBe(' ра\uFFFD')
    expect(tokenizeReply(tokenizer, ' раб', 1, new SeededRandom(1))).toEqual(rab)
    // 'крап' = ['к', 'ра' + first byte of 'п', last byte of 'п']: only 'к' is a word
    const krap = tokenizer.encode('крап')
    expect(krap).toHaveLength(3)
    const ids = tokenizeReply(tokenizer, 'крап', 1, new SeededRandom(1))
    expect(ids.slice(-2)).toEqual(krap.slice(1))
    expect(ids.slice(0, -2)).not.toEqual(krap.slice(0, 1))
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

  it('hides special tokens’ text unless keepSpecialTokens; an added token that is not special always shows', () => {
    const ids = [9707, 151644, 0, 151667, 151645]
    expect(runEngine(tokenizer, ids, unlimited).texts).toEqual(['Hello', '', '!', '<think>', ''])
    expect(runEngine(tokenizer, ids, { ...unlimited, keepSpecialTokens: true }).texts).toEqual([
      'Hello',
      '<|im_start|>',
      '!',
      '<think>',
      '',
    ])
  })

  it('finishes with length when the reply runs out without EOS; a trailing incomplete UTF-8 sequence joins the last text as U+FFFD', () => {
    // 'a' + the first three of the four bytes of '𝔘'
    const ids = tokenizer.encode('a𝔘').slice(0, -1)
    expect(ids).toHaveLength(2)
    const generation = runEngine(tokenizer, ids, unlimited)
    expect(generation).toEqual({
      ids,
      texts: ['a', '\uFFFD'],
      finishReason: 'length',
      stopReason: null,
    })
    expect(runEngine(tokenizer, [9707, 0], unlimited)).toEqual({
      ids: [9707, 0],
      texts: ['Hello', '!'],
      finishReason: 'length',
      stopReason: null,
    })
  })

  it('gives no ids and no texts for an empty reply', () => {
    expect(runEngine(tokenizer, [], unlimited)).toStrictEqual({
      ids: [],
      texts: [],
      finishReason: 'length',
      stopReason: null,
    })
  })

  it('stops on a stop string at the very start of the output, leaving no text', () => {
    const ids = tokenizer.encode('Hello world')
    expect(runEngine(tokenizer, ids, { ...unlimited, stop: ['Hello'] })).toEqual({
      ids: ids.slice(0, 1),
      texts: [''],
      finishReason: 'stop',
      stopReason: 'Hello',
    })
  })

  it('stops on a one-character stop string inside a token', () => {
    const ids = tokenizer.encode('Hello world again')
    expect(runEngine(tokenizer, ids, { ...unlimited, stop: [' '] })).toEqual({
      ids: ids.slice(0, 2),
      texts: ['Hello', ''],
      finishReason: 'stop',
      stopReason: ' ',
    })
  })

  it('stops on a stop string that began in an earlier token, cutting every text from its start', () => {
    const ids = tokenizer.encode('one two three four')
    expect(runEngine(tokenizer, ids, { ...unlimited, stop: ['wo th'] })).toEqual({
      ids: ids.slice(0, 3),
      texts: ['one', ' t', ''],
      finishReason: 'stop',
      stopReason: 'wo th',
    })
  })

  it('of stop strings completed by the same token, takes the first in request order (vLLM’s check_stop_strings)', () => {
    const ids = tokenizer.encode('Hello world')
    expect(ids).toHaveLength(2)
    expect(runEngine(tokenizer, ids, { ...unlimited, stop: ['ld', 'wor'] })).toEqual({
      ids,
      texts: ['Hello', ' wor'],
      finishReason: 'stop',
      stopReason: 'ld',
    })
    expect(runEngine(tokenizer, ids, { ...unlimited, stop: ['wor', 'ld'] })).toEqual({
      ids,
      texts: ['Hello', ' '],
      finishReason: 'stop',
      stopReason: 'wor',
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
