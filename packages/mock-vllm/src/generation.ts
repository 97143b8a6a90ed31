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
  if (nonCanonicalRate <= 0) return canonical
  const result: number[] = []
  let index = 0
  while (index < canonical.length) {
    const end = wordEnd(tokenizer, canonical, index)
    const word = canonical.slice(index, end)
    const isWord = end > index && startsWord(tokenizer, canonical[index]!)
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
const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

/** The text an id stands for, or `undefined` for added tokens and incomplete UTF-8 pieces. */
function plainText(tokenizer: Qwen3Tokenizer, id: number): string | undefined {
  if (tokenizer.isAddedToken(id)) return undefined
  try {
    return strictUtf8.decode(tokenizer.tokenBytes(id))
  } catch {
    return undefined
  }
}

/**
 * End (exclusive) of the word starting at `start`: a letter token, optionally space-led, plus the letter
 * tokens that continue it. (Pieces are tested on their decoded text: in the byte-level alphabet a space
 * or newline is written as a letter, `Ġ` or `Ċ`.)
 */
function wordEnd(tokenizer: Qwen3Tokenizer, ids: number[], start: number): number {
  if (!startsWord(tokenizer, ids[start]!)) return start + 1
  let end = start + 1
  while (end < ids.length) {
    const next = plainText(tokenizer, ids[end]!)
    if (next === undefined || !wordContinuation.test(next)) break
    end += 1
  }
  return end
}

/** Whether `id` is a letter token, optionally space-led: the start of a word. */
function startsWord(tokenizer: Qwen3Tokenizer, id: number): boolean {
  const text = plainText(tokenizer, id)
  return text !== undefined && wordStart.test(text)
}

/** Two vocabulary pieces spelling the same word differently from `word`, or `undefined` when none exists. */
function nonCanonicalSplit(
  tokenizer: Qwen3Tokenizer,
  word: number[],
  random: SeededRandom,
): number[] | undefined {
  const spelled = word.map((id) => tokenizer.pieceOf(id) ?? '').join('')
  const candidates: number[][] = []
  for (let cut = 1; cut < spelled.length; cut += 1) {
    const left = tokenizer.idOfPiece(spelled.slice(0, cut))
    const right = tokenizer.idOfPiece(spelled.slice(cut))
    if (left === undefined || right === undefined) continue
    if (word.length === 2 && word[0] === left && word[1] === right) continue
    candidates.push([left, right])
  }
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
  const longestStop = conditions.stop.reduce((longest, stop) => Math.max(longest, stop.length), 0)
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
    if (longestStop > 0 && piece.length > 0) {
      const match = findStop(text, conditions.stop, Math.max(0, before - longestStop + 1))
      if (match) {
        cutTexts(texts, text.length - match.index)
        return { ids, texts, finishReason: 'stop', stopReason: match.stop }
      }
    }
  }
  texts.push(decoder.decode())
  if (texts.length > ids.length) {
    // a reply that ended on an incomplete UTF-8 sequence: the replacement character joins the last token
    const tail = texts.pop()!
    if (texts.length > 0) texts[texts.length - 1] += tail
  }
  return { ids, texts, finishReason: 'length', stopReason: null }
}

function findStop(text: string, stops: string[], from: number): { index: number; stop: string } | undefined {
  let best: { index: number; stop: string } | undefined
  for (const stop of stops) {
    if (stop.length === 0) continue
    const index = text.indexOf(stop, from)
    if (index >= 0 && (!best || index < best.index)) best = { index, stop }
  }
  return best
}

/** Removes `count` characters from the end of the per-token texts (the stop string and what followed it). */
function cutTexts(texts: string[], count: number): void {
  let remaining = count
  for (let index = texts.length - 1; index >= 0 && remaining > 0; index -= 1) {
    const piece = texts[index]!
    const removed = Math.min(piece.length, remaining)
    texts[index] = piece.slice(0, piece.length - removed)
    remaining -= removed
  }
}
