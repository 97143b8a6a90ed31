import { demoChatReply, demoCompletionReply } from './demo-policy'
import type { MockPolicy, MockReplyFunction, MockReplyRequest } from './mock-vllm-options'
import type { Qwen3Tokenizer } from './qwen3-tokenizer'
import type { SeededRandom } from './seeded-random'

/** A reply before the engine runs: text to tokenize, or ids drawn directly (the random policy). */
export type Reply = { kind: 'text'; text: string } | { kind: 'ids'; ids: number[]; texts: string[] }

/** Resolves the configured policy to one reply per request. Keeps the script cursor. */
export class ReplyPolicy {
  private scriptCursor = 0
  private randomTable: RandomTokenTable | undefined

  /** `policy` must have been checked (by `readMockVllmOptions`). */
  constructor(
    private readonly policy: MockPolicy,
    private readonly tokenizer: Qwen3Tokenizer,
  ) {}

  /** Whether replies are random tokens (no reasoning or tool blocks: the parsers can be skipped). */
  get isRandom(): boolean {
    return typeof this.policy === 'object' && 'random' in this.policy
  }

  /** The reply text of a scripted or demo request (one per request: every choice of `n` shares it). */
  text(request: MockReplyRequest): string {
    const policy = this.policy
    if (policy === 'demo') {
      return request.endpoint === 'chat'
        ? demoChatReply(request.body)
        : demoCompletionReply(request.conversation)
    }
    if ('script' in policy) {
      const script = policy.script
      if (typeof script === 'function') return callScript(script, request)
      const entry = script[Math.min(this.scriptCursor, script.length - 1)]!
      this.scriptCursor += 1
      return typeof entry === 'function' ? callScript(entry, request) : entry
    }
    throw new Error('random policy has no reply text')
  }

  /** `tokens` random vocabulary ids (letters only, so no parser markup appears) plus their texts. */
  randomReply(random: SeededRandom): Reply {
    if (typeof this.policy !== 'object' || !('random' in this.policy)) throw new Error('not a random policy')
    this.randomTable ??= randomTokenTable(this.tokenizer)
    const table = this.randomTable
    const count = this.policy.random.tokens
    const ids = new Array<number>(count)
    const texts = new Array<string>(count)
    for (let index = 0; index < count; index += 1) {
      const pick = random.nextInt(table.ids.length)
      ids[index] = table.ids[pick]!
      texts[index] = table.texts[pick]!
    }
    return { kind: 'ids', ids, texts }
  }
}

function callScript(script: MockReplyFunction, request: MockReplyRequest): string {
  const text = script(request)
  if (typeof text !== 'string') {
    throw new TypeError(`mock-vllm script function returned ${typeof text}; it must return the reply text`)
  }
  return text
}

interface RandomTokenTable {
  ids: number[]
  texts: string[]
}

const tables = new WeakMap<Qwen3Tokenizer, RandomTokenTable>()

/** Ids whose piece is an ASCII word (optionally space-led): cheap to draw, always valid UTF-8 on their own. */
function randomTokenTable(tokenizer: Qwen3Tokenizer): RandomTokenTable {
  const cached = tables.get(tokenizer)
  if (cached) return cached
  const table: RandomTokenTable = { ids: [], texts: [] }
  for (let id = 0; id < tokenizer.vocabSize; id += 1) {
    const piece = tokenizer.pieceOf(id)
    if (piece === undefined || tokenizer.isAddedToken(id) || !/^Ġ?[A-Za-z]{2,}$/.test(piece)) continue
    table.ids.push(id)
    table.texts.push(piece.replace('Ġ', ' '))
  }
  tables.set(tokenizer, table)
  return table
}
