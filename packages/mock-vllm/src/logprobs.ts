import type { Qwen3Tokenizer } from './qwen3-tokenizer'
import type { SeededRandom } from './seeded-random'

/** vLLM clamps `-inf` log-probabilities to this value. */
export const MIN_LOGPROB = -9999.0

/** Ids below this are Qwen3's byte-level BPE vocabulary; added tokens start at 151643. */
const BASE_VOCAB_SIZE = 151_643

/** The log-probabilities of one sampled position: the sampled token first, then alternatives. */
export interface PositionLogprobs {
  id: number
  logprob: number
  /** Sampled token first, then alternatives (the engine's order). */
  candidates: Array<{ id: number; logprob: number }>
}

/**
 * Seeded fake log-probabilities for sampled ids (there is no real model): the sampled token is the most
 * likely one, alternatives are drawn from the vocabulary with lower values. `alternatives` is how many
 * besides the sampled token.
 */
export function makeLogprobs(
  ids: readonly number[],
  alternatives: number,
  random: SeededRandom,
): PositionLogprobs[] {
  return ids.map((id) => {
    const logprob = Math.max(MIN_LOGPROB, -Number((random.next() ** 3 * 2.5).toFixed(6)))
    const candidates = [{ id, logprob }]
    let previous = logprob
    for (let index = 0; index < alternatives; index += 1) {
      previous = Math.max(MIN_LOGPROB, Number((previous - 0.5 - random.next() * 4).toFixed(6)))
      // alternatives come from the base vocabulary (below the added tokens)
      candidates.push({ id: random.nextInt(BASE_VOCAB_SIZE), logprob: previous })
    }
    return { id, logprob, candidates }
  })
}

const utf8 = new TextEncoder()

/** A chat `logprobs.content[]` entry (including the `token_id:N` bytes quirk of `return_tokens_as_token_ids`). */
export function chatLogprobEntry(
  position: PositionLogprobs,
  topLogprobs: number,
  asTokenIds: boolean,
  tokenizer: Qwen3Tokenizer,
): Record<string, unknown> {
  const decoded = tokenizer.decode([position.id])
  return {
    token: asTokenIds ? `token_id:${position.id}` : decoded,
    logprob: position.logprob,
    bytes: [...utf8.encode(decoded)],
    top_logprobs: position.candidates.slice(0, topLogprobs).map((candidate) => {
      const token = asTokenIds ? `token_id:${candidate.id}` : tokenizer.decode([candidate.id])
      return { token, logprob: candidate.logprob, bytes: [...utf8.encode(token)] }
    }),
  }
}

/** Completions `logprobs` object for a run of positions starting at text offset `textOffset`. */
export function completionLogprobs(
  positions: PositionLogprobs[],
  texts: readonly string[],
  textOffset: number,
  asTokenIds: boolean,
  tokenizer: Qwen3Tokenizer,
): Record<string, unknown> {
  const textOffsets: number[] = []
  let offset = textOffset
  const tokenOf = (id: number) => (asTokenIds ? `token_id:${id}` : tokenizer.decode([id]))
  for (const text of texts) {
    textOffsets.push(offset)
    offset += text.length
  }
  return {
    text_offset: textOffsets,
    token_logprobs: positions.map((position) => position.logprob),
    tokens: positions.map((position) => tokenOf(position.id)),
    top_logprobs: positions.map((position) => {
      const top: Record<string, number> = {}
      for (const candidate of position.candidates) {
        const token = tokenOf(candidate.id)
        // duplicate token strings collapse, as in vLLM
        if (!(token in top)) top[token] = candidate.logprob
      }
      return top
    }),
  }
}

/**
 * `prompt_logprobs` (non-streaming only): `null` for the first prompt token, then per
 * position the actual token plus the top `count` alternatives, keyed by token id as a string, with
 * `{logprob, rank, decoded_token}`. `count: 0` returns only the actual token.
 */
export function promptLogprobs(
  promptIds: readonly number[],
  count: number,
  random: SeededRandom,
  tokenizer: Qwen3Tokenizer,
): Array<Record<string, { logprob: number; rank: number; decoded_token: string }> | null> {
  const positions = makeLogprobs(promptIds.slice(1), count, random)
  return [
    null,
    ...positions.map((position) => {
      const entries: Record<string, { logprob: number; rank: number; decoded_token: string }> = {}
      // the actual prompt token was not necessarily the likeliest: its rank is drawn, alternatives rank 1..count
      const actualRank = count === 0 ? 1 + random.nextInt(20) : 1 + random.nextInt(count + 1)
      position.candidates.forEach((candidate, index) => {
        const key = String(candidate.id)
        if (key in entries) return
        entries[key] = {
          logprob: candidate.logprob,
          rank: index === 0 ? actualRank : index,
          decoded_token: tokenizer.decode([candidate.id]),
        }
      })
      return entries
    }),
  ]
}
