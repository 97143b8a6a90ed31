import type { Qwen3Tokenizer } from './qwen3-tokenizer'
import type { SeededRandom } from './seeded-random'

/** `<|endoftext|>`: in Qwen3's generation config an extra EOS, reported as an int `stop_reason`. */
export const ENDOFTEXT_TOKEN_ID = 151643

/** What the engine "sampled" for one choice: ids, their detokenized text, and why it stopped. */
export interface Generation {
  /** Sampled ids, including the final stop token when the choice stopped on one. */
  ids: number[]
  /** Text each id added, as vLLM's incremental detokenizer (skip_special_tokens) produced it. */
  texts: string[]
  /** `stop` (EOS, stop token or stop string) or `length` (`max_tokens`). */
  finishReason: 'stop' | 'length'
  /** `null` for EOS, the id for a stop token, the string for a stop string. */
  stopReason: number | string | null
}

/** Stop conditions of a request, as vLLM's `SamplingParams` holds them. */
export interface StopConditions {
  /** Upper bound on generated tokens. */
  maxTokens: number
  /** Stop strings; the text is cut before the match. */
  stop: string[]
  /** Ids that stop generation; reported as the int `stop_reason`. */
  stopTokenIds: number[]
  /** Keep special tokens' text (`skip_special_tokens: false`). */
  keepSpecialTokens?: boolean
}

/**
 * Tokenizes a reply with the real tokenizer. With `nonCanonicalRate` > 0, some words are re-split into two
 * vocabulary pieces the tokenizer would never produce itself (Qwen3 `HAVING` → `H`+`AVING` = [39, 83722]
 * instead of [72239, 1718]), so decode-then-encode drift is real. Deterministic for a given generator.
 */
export function tokenizeReply(
  tokenizer: Qwen3Tokenizer,
  text: string,
  nonCanonicalRate: number,
  random: SeededRandom,
): number[] {
  const canonical = tokenizer.encode(text)
  // no draws at all at rate 0: the generator's later values (logprobs, tool-call ids) stay those of the seed
  if (nonCanonicalRate <= 0) return canonical
  const result: number[] = []
  let index = 0
  while (index < canonical.length) {
    const isWord = startsWord(tokenizer, canonical[index]!)
    const end = isWord ? wordEnd(tokenizer, canonical, index) : index + 1
    const word = canonical.slice(index, end)
    index = end
    // only words are re-split: punctuation, digits and special tokens keep their canonical ids
    if (isWord && random.next() < nonCanonicalRate) {
      const split = nonCanonicalSplit(tokenizer, word, random)
      if (split) {
        result.push(...split)
        continue
      }
    }
    result.push(...word)
  }
  return result
}

const wordStart = /^ ?\p{L}+$/u
const wordContinuation = /^\p{L}+$/u
const utf8 = new TextDecoder('utf-8')

/**
 * The text an id stands for. Neither an added token (Qwen3 writes them all `<…>`) nor an incomplete UTF-8 piece
 * (decoded with the replacement character) reads as letters, so neither starts or continues a word.
 */
function plainText(tokenizer: Qwen3Tokenizer, id: number): string {
  return utf8.decode(tokenizer.tokenBytes(id))
}

/**
 * End (exclusive) of the word whose first token is at `start`: that token plus the letter tokens that continue it.
 * (Pieces are tested on their decoded text: in the byte-level alphabet a space or newline is written as a letter,
 * `Ġ` or `Ċ`.)
 */
function wordEnd(tokenizer: Qwen3Tokenizer, ids: number[], start: number): number {
  let end = start + 1
  while (end < ids.length) {
    if (!wordContinuation.test(plainText(tokenizer, ids[end]!))) break
    end += 1
  }
  return end
}

/** Whether `id` is a letter token, optionally space-led: the start of a word. */
function startsWord(tokenizer: Qwen3Tokenizer, id: number): boolean {
  return wordStart.test(plainText(tokenizer, id))
}

/** Two vocabulary pieces spelling the same word differently from `word`, or `undefined` when none exists. */
function nonCanonicalSplit(
  tokenizer: Qwen3Tokenizer,
  word: number[],
  random: SeededRandom,
): number[] | undefined {
  const spelled = tokenizer.tokenStrings(word).join('')
  const canonical = String(word)
  const candidates: number[][] = []
  for (let cut = 1; cut < spelled.length; cut += 1) {
    const left = tokenizer.idOfPiece(spelled.slice(0, cut))
    const right = tokenizer.idOfPiece(spelled.slice(cut))
    if (left === undefined || right === undefined) continue
    // a two-token word's own pair is no other spelling
    if (String([left, right]) === canonical) continue
    candidates.push([left, right])
  }
  // no draw for a word that has no other spelling
  if (candidates.length === 0) return undefined
  return candidates[random.nextInt(candidates.length)]
}

/**
 * Runs the "engine" over a reply's ids: stops on EOS, `stop_token_ids`, stop strings or `max_tokens`, and
 * detokenizes each id incrementally (incomplete UTF-8 waits for its continuation, as vLLM's detokenizer does).
 */
export function runEngine(
  tokenizer: Qwen3Tokenizer,
  replyIds: number[],
  conditions: StopConditions,
): Generation {
  const decoder = new TextDecoder('utf-8')
  const ids: number[] = []
  const texts: string[] = []
  let text = ''
  // a stop string first found after a piece was added ends in that piece, so it starts at most `lookBack`
  // characters before the piece
  // a longer look back (`+ 1`, or NaN from a reducer returning undefined: from 0) only re-reads text without a stop
  // Stryker disable next-line ArithmeticOperator,ArrowFunction: equivalent, see above
  const lookBack = conditions.stop.reduce((longest, stop) => Math.max(longest, stop.length), 0) - 1
  for (const id of replyIds) {
    if (ids.length >= conditions.maxTokens) {
      return { ids, texts, finishReason: 'length', stopReason: null }
    }
    ids.push(id)
    const isEos = id === tokenizer.eosTokenId || id === ENDOFTEXT_TOKEN_ID
    if (isEos || conditions.stopTokenIds.includes(id)) {
      // the stop token's own text is never part of the output (include_stop_str_in_output is off)
      texts.push(decoder.decode())
      return { ids, texts, finishReason: 'stop', stopReason: id === tokenizer.eosTokenId ? null : id }
    }
    const piece =
      tokenizer.isSpecialToken(id) && !conditions.keepSpecialTokens
        ? ''
        : tokenizer.isAddedToken(id)
          ? decoder.decode() + tokenizer.pieceOf(id)
          : decoder.decode(tokenizer.tokenBytes(id), { stream: true })
    texts.push(piece)
    const before = text.length
    text += piece
    const match = findStop(text, conditions.stop, before - lookBack)
    if (match) {
      keepTexts(texts, match.index)
      return { ids, texts, finishReason: 'stop', stopReason: match.stop }
    }
  }
  // the reply ran out without EOS: what the decoder still holds (an incomplete UTF-8 sequence, as the replacement
  // character) joins the last token's text
  const tail = decoder.decode()
  if (texts.length > 0) texts[texts.length - 1] += tail
  return { ids, texts, finishReason: 'length', stopReason: null }
}

/**
 * The first stop string in request order that occurs in `text` from `from` on, as vLLM's `check_stop_strings` picks
 * it (not the one that occurs first in the text).
 */
function findStop(text: string, stops: string[], from: number): { index: number; stop: string } | undefined {
  for (const stop of stops) {
    const index = text.indexOf(stop, from)
    if (index >= 0) return { index, stop }
  }
  return undefined
}

/** Cuts the per-token texts to their first `length` characters together (the text before the stop string). */
function keepTexts(texts: string[], length: number): void {
  let start = 0
  texts.forEach((piece, index) => {
    texts[index] = piece.slice(0, Math.max(0, length - start))
    start += piece.length
  })
}
