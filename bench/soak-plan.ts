// The seeded plan of the soak, shared by the soak worker's sections: the fault each rollout gets, the reply the
// mock model gives, and the exact ids a verified record of that reply must carry.
import { loadQwen3Tokenizer, type MockFault } from '@vllm-tito/mock-vllm'
import type { ChatMessage } from '@vllm-tito/spec'

export const MODEL = 'Qwen/Qwen3-8B'

/** mulberry32: a small seeded generator, so the same seed gives the same fault plan */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state)
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296
  }
}

export type FaultName = 'none' | 'legacy-0.10' | MockFault['kind']

export function pickFault(random: () => number): { name: FaultName; fault?: MockFault } {
  const roll = random()
  const afterChunks = 1 + Math.floor(random() * 12)
  if (roll < 0.4) return { name: 'none' }
  if (roll < 0.5) return { name: 'legacy-0.10' }
  if (roll < 0.56)
    return { name: 'http-status', fault: { kind: 'http-status', status: 429, retryAfterSeconds: 0 } }
  if (roll < 0.62) return { name: 'http-status', fault: { kind: 'http-status', status: 503 } }
  if (roll < 0.7) return { name: 'reset', fault: { kind: 'reset', afterChunks } }
  if (roll < 0.76)
    return { name: 'stall', fault: { kind: 'stall', afterChunks, ms: random() < 0.5 ? 50 : 1_500 } }
  if (roll < 0.82) return { name: 'malformed-chunk', fault: { kind: 'malformed-chunk', afterChunks } }
  if (roll < 0.88) return { name: 'mid-stream-error', fault: { kind: 'mid-stream-error', afterChunks } }
  if (roll < 0.94)
    return { name: 'wrong-token-ids-type', fault: { kind: 'wrong-token-ids-type', afterChunks } }
  return { name: 'missing-done', fault: { kind: 'missing-done' } }
}

/** the reply of rollout `index`: reasoning (which legacy-0.10 loses ids of) and a short answer */
export function replyFor(text: string): string {
  const index = /rollout (\d+)/.exec(text)?.[1] ?? '0'
  return `<think>\nRollout ${index} needs a short answer.\n</think>\n\nAnswer ${index}: ${'ok '.repeat(1 + (Number(index) % 7))}done.`
}

/** The mock's model for every soak section: the reply of the user's last message. */
export const soakPolicy = {
  script: (request: { body: Record<string, unknown> }) => {
    const messages = request.body.messages as ChatMessage[] | undefined
    const last = messages?.findLast((message) => message.role === 'user')
    return replyFor(typeof last?.content === 'string' ? last.content : '')
  },
}

export const tokenizer = await loadQwen3Tokenizer()
const expectedIdsCache = new Map<string, number[]>()

/** The ids the mock samples for `userText`: the reply's tokens and `<|im_end|>`. */
export function expectedCompletionIds(userText: string): number[] {
  let ids = expectedIdsCache.get(userText)
  if (!ids) {
    ids = [...tokenizer.encode(replyFor(userText)), tokenizer.eosTokenId]
    expectedIdsCache.set(userText, ids)
  }
  return ids
}
