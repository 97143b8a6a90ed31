import type { VLLMClient } from '@vllm-tito/client'
import type { TextTokenizer } from '@vllm-tito/spec'
import { findDriftIndex } from '@vllm-tito/trajectory'
import { formatTable } from './format-table'

/** Decode and encode, possibly over HTTP: the two halves of the round trip a retokenizing trainer makes. */
export interface RoundTripTokenizer {
  /** Where the tokenizer lives, for the printout (`the server's /detokenize + /tokenize`). */
  description: string
  /** Ids to text, special tokens kept. */
  decode(tokenIds: readonly number[]): Promise<string>
  /** Text to ids, no special tokens added (those written in the text are still parsed). */
  encode(text: string): Promise<number[]>
}

/**
 * The server's own tokenizer (`POST /detokenize`, then `POST /tokenize`): works for any model vLLM serves, and
 * for the embedded mock, which implements both endpoints with the real Qwen3 tokenizer.
 */
export function serverTokenizer(client: VLLMClient, modelId: string): RoundTripTokenizer {
  return {
    description: `the server's /detokenize + /tokenize`,
    decode: (tokenIds) => client.detokenize(tokenIds, { model: modelId }),
    encode: async (text) =>
      (await client.tokenize({ model: modelId, prompt: text, addSpecialTokens: false })).tokenIds,
  }
}

/** A local tokenizer (e.g. mock-vllm's `loadQwen3Tokenizer()`), as a {@link RoundTripTokenizer}. */
export function localTokenizer(tokenizer: TextTokenizer, description: string): RoundTripTokenizer {
  return {
    description,
    decode: async (tokenIds) => tokenizer.decode(tokenIds),
    encode: async (text) => tokenizer.encode(text),
  }
}

/** What re-encoding the decoded text of sampled ids gives. */
export interface DriftCheck {
  /** The ids the model sampled. */
  sampledIds: number[]
  /** Their text. */
  text: string
  /** The ids the tokenizer gives for that text. */
  reencodedIds: number[]
  /** First differing position (`findDriftIndex`), `-1` when the round trip is exact. */
  driftIndex: number
}

/** Decodes the sampled ids, re-encodes the text and finds the first position where the ids differ. */
export async function checkDrift(
  sampledIds: readonly number[],
  tokenizer: RoundTripTokenizer,
): Promise<DriftCheck> {
  const text = await tokenizer.decode(sampledIds)
  const reencodedIds = await tokenizer.encode(text)
  return {
    sampledIds: [...sampledIds],
    text,
    reencodedIds,
    driftIndex: findDriftIndex(sampledIds, reencodedIds),
  }
}

/**
 * The two tokenizations side by side around the drift: position, sampled id and its text, re-encoded id and its
 * text (each id decoded alone, so a split like `H`+`AVING` against `HAV`+`ING` is visible).
 */
export async function formatDriftSideBySide(
  drift: DriftCheck,
  tokenizer: RoundTripTokenizer,
  window = 4,
): Promise<string> {
  const start = Math.max(0, drift.driftIndex - 1)
  const end = Math.max(drift.sampledIds.length, drift.reencodedIds.length)
  const stop = Math.min(end, drift.driftIndex + window)
  const pieceOf = async (id: number | undefined) =>
    id === undefined ? '' : JSON.stringify(await tokenizer.decode([id]))
  const rows: Array<Array<string | number>> = []
  for (let position = start; position < stop; position += 1) {
    const sampled = drift.sampledIds[position]
    const reencoded = drift.reencodedIds[position]
    rows.push([
      position,
      sampled ?? '-',
      await pieceOf(sampled),
      reencoded ?? '-',
      await pieceOf(reencoded),
      sampled === reencoded ? '' : '≠',
    ])
  }
  return formatTable(['position', 'sampled id', 'text', 're-encoded id', 'text', 'differs'], rows)
}
