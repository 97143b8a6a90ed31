import { OptionReader } from '@vllm-tito/spec'
import { LogprobLengthError } from './errors'
import { validateLogprobs, validateTokenIds } from './token-input'

/** One token of a managed sequence, as `TokenManager.tokens` lists them (Python `Token`). */
export interface Token {
  /** Vocabulary id. */
  tokenId: number
  /** Natural-log probability of the sampled token, or `null` when none is known (prompt tokens, not requested). */
  logprob: number | null
  /** `1` for model output (trained on), `0` for prompt, tool results and user turns. */
  lossMask: 0 | 1
}

/** One appended block of tokens: a prompt part (`isOutput: false`) or a model response (`isOutput: true`). */
export interface TokenSegment {
  /** The ids as appended (a copy: later changes to the caller's array do not leak in). */
  tokenIds: readonly number[]
  /**
   * Logprobs as appended, aligned 1:1 with {@link tokenIds}; `null` when none were given, or (non-strict
   * mode) when the given array had the wrong length and was therefore dropped.
   */
  logprobs: readonly (number | null)[] | null
  /** `true` for a model response (loss mask 1). */
  isOutput: boolean
  /** `true` when logprobs were given but dropped for having the wrong length (non-strict mode only). */
  logprobsDropped: boolean
}

/** Options of a {@link TokenManager}. */
export interface TokenManagerOptions {
  /**
   * `true`: a logprobs array whose length differs from its ids throws {@link LogprobLengthError}.
   * `false` (default): such an array is dropped as a whole — every logprob of that segment reads `null` and
   * the segment is marked `logprobsDropped` — because positional alignment of a wrong-length array is a guess.
   * Either way nothing is ever padded or truncated.
   */
  strict?: boolean
}

/** Ids and logprobs as plain arrays, for JSON. */
export interface TokenManagerSnapshot {
  /** Every token id, in order. */
  tokenIds: number[]
  /** `1` per model-output token, `0` otherwise. */
  lossMask: Array<0 | 1>
  /** One logprob or `null` per token id. */
  logprobs: Array<number | null>
  /** `[isOutput, length]` per segment. */
  segmentInfo: Array<[isOutput: boolean, length: number]>
}

// tokens live in fixed-size chunks: appends never copy earlier tokens and leave no garbage behind
const CHUNK_BITS = 16
const CHUNK_SIZE = 1 << CHUNK_BITS
const CHUNK_MASK = CHUNK_SIZE - 1

/**
 * One chunk of token storage. NaN in `logprobs` marks "none" (validation rejects NaN, so no collision). The loss
 * mask is not stored per token: it is the segment's `isOutput`, written into the mask view one segment at a time.
 */
interface TokenChunk {
  ids: Uint32Array
  logprobs: Float64Array
}

function createChunk(): TokenChunk {
  return {
    ids: new Uint32Array(CHUNK_SIZE),
    logprobs: new Float64Array(CHUNK_SIZE),
  }
}

interface SegmentRange {
  start: number
  length: number
  isOutput: boolean
  hasLogprobs: boolean
  logprobsDropped: boolean
}

/**
 * Accumulates a sequence as prompt segments (loss mask 0) and response segments (loss mask 1), like
 * `strands_vllm.TokenManager`. Unlike the Python class, nothing is re-flattened on read: an append writes its
 * tokens once into compact growable buffers (amortised O(1) per token), and `tokenIds`, `lossMask` and
 * `logprobs` return arrays extended with only the tokens appended since their previous read — a repeated
 * read is O(1).
 *
 * The returned arrays are owned by the manager and read-only; a read after more appends extends the same
 * array in place. Copy one (`[...manager.tokenIds]`, or {@link toJSON}) to keep a snapshot.
 * {@link reset} starts new arrays, so arrays read before a reset keep their contents.
 *
 * @example
 * const manager = new TokenManager({ strict: true })
 * manager.addPrompt([151644, 872, 198])
 * manager.addResponse([9707, 151645], [-0.1, -0.02])
 * manager.lossMask // [0, 0, 0, 1, 1]
 * manager.logprobs // [null, null, null, -0.1, -0.02]
 */
export class TokenManager {
  readonly #strict: boolean
  #chunks: TokenChunk[] = []
  #length = 0
  // the arrays handed out, extended on read with only the tokens appended since the previous read
  #idsView: number[] = unboxedNumberArray()
  #maskView: Array<0 | 1> = unboxedNumberArray()
  // segments already written into #maskView
  #maskSegments = 0
  #logprobsView: Array<number | null> = []
  #ranges: SegmentRange[] = []
  #segmentsView: TokenSegment[] = []

  /**
   * One empty instance that lives as long as the class. V8 holds the hidden classes ("maps") of instances
   * only weakly, so a full garbage collection at a moment when no manager exists drops them and deoptimizes
   * every method compiled for them: the next manager would then start in the interpreter and recompile
   * (measured: a 1M-token build + read took up to 2x longer, and the 2x/1x scaling bench swung between
   * 1.6 and 2.5 depending on which run happened to start cold). Keeping one instance keeps the maps.
   */
  // biome-ignore lint/correctness/noUnusedPrivateClassMembers: never read; it exists only to stay reachable
  static readonly #shapeKeeper = new TokenManager()

  /** @throws InvalidOptionError (from spec) on an unknown option or a `strict` that is not a boolean. */
  constructor(options: TokenManagerOptions = {}) {
    const read = new OptionReader('new TokenManager', options).rejectUnknown(['strict'])
    this.#strict = read.boolean('strict') ?? false
  }

  /** Whether wrong-length logprobs throw (see {@link TokenManagerOptions.strict}). */
  get strict(): boolean {
    return this.#strict
  }

  /**
   * Appends prompt tokens (system, user, tool results; loss mask 0). Empty `tokenIds` are ignored, as in
   * Python. `logprobs` are optional prompt logprobs (rarely available).
   */
  addPrompt(tokenIds: readonly number[], logprobs?: readonly (number | null)[] | null): void {
    this.#append(tokenIds, logprobs, false)
  }

  /** Appends model output tokens (loss mask 1). Empty `tokenIds` are ignored, as in Python. */
  addResponse(tokenIds: readonly number[], logprobs?: readonly (number | null)[] | null): void {
    this.#append(tokenIds, logprobs, true)
  }

  /** Every token id in order. */
  get tokenIds(): readonly number[] {
    const view = this.#idsView
    const start = growView(view, this.#length)
    const chunks = this.#chunks
    for (let index = start; index < this.#length; index += 1) {
      view[index] = chunks[index >>> CHUNK_BITS]!.ids[index & CHUNK_MASK]!
    }
    return view
  }

  /** `1` for each model-output token, `0` otherwise; same length as {@link tokenIds}. */
  get lossMask(): readonly (0 | 1)[] {
    const view = this.#maskView
    growView(view, this.#length)
    // the mask is constant within a segment: one builtin `fill` per new segment instead of a per-token loop
    const ranges = this.#ranges
    for (let index = this.#maskSegments; index < ranges.length; index += 1) {
      const range = ranges[index]!
      view.fill(range.isOutput ? 1 : 0, range.start, range.start + range.length)
    }
    this.#maskSegments = ranges.length
    return view
  }

  /**
   * One entry per token id: the logprob given for it, or `null` where none was given (prompt segments,
   * responses without logprobs, or dropped wrong-length arrays). Never padded with a fake value.
   */
  get logprobs(): readonly (number | null)[] {
    const view = this.#logprobsView
    const start = growView(view, this.#length)
    const chunks = this.#chunks
    for (let index = start; index < this.#length; index += 1) {
      const value = chunks[index >>> CHUNK_BITS]!.logprobs[index & CHUNK_MASK]!
      view[index] = Number.isNaN(value) ? null : value
    }
    return view
  }

  /** The segments in append order. */
  get segments(): readonly TokenSegment[] {
    const view = this.#segmentsView
    for (let index = view.length; index < this.#ranges.length; index += 1) {
      const range = this.#ranges[index]!
      const end = range.start + range.length
      view.push({
        tokenIds: this.tokenIds.slice(range.start, end),
        logprobs: range.hasLogprobs ? this.logprobs.slice(range.start, end) : null,
        isOutput: range.isOutput,
        logprobsDropped: range.logprobsDropped,
      })
    }
    return view
  }

  /** `[isOutput, length]` per segment (Python `segment_info`). */
  get segmentInfo(): Array<[isOutput: boolean, length: number]> {
    return this.#ranges.map((range) => [range.isOutput, range.length])
  }

  /** Every token as a {@link Token} object. Builds a new array on each read (O(n)); meant for inspection. */
  get tokens(): Token[] {
    const logprobs = this.logprobs
    const lossMask = this.lossMask
    return this.tokenIds.map((tokenId, index) => ({
      tokenId,
      logprob: logprobs[index]!,
      lossMask: lossMask[index]!,
    }))
  }

  /** Total number of tokens (Python `len(manager)`). */
  get length(): number {
    return this.#length
  }

  /** Number of model-output tokens (loss mask 1). */
  get outputLength(): number {
    let count = 0
    for (const range of this.#ranges) if (range.isOutput) count += range.length
    return count
  }

  /** Forgets every segment. Arrays read before the reset keep their contents. */
  reset(): void {
    this.#chunks = []
    this.#length = 0
    this.#idsView = unboxedNumberArray()
    this.#maskView = unboxedNumberArray()
    this.#maskSegments = 0
    this.#logprobsView = []
    this.#ranges = []
    this.#segmentsView = []
  }

  /** Copies of the flat arrays and the segment info, for `JSON.stringify`. */
  toJSON(): TokenManagerSnapshot {
    return {
      tokenIds: this.tokenIds.slice(),
      lossMask: this.lossMask.slice(),
      logprobs: this.logprobs.slice(),
      segmentInfo: this.segmentInfo,
    }
  }

  #append(
    tokenIds: readonly number[],
    logprobs: readonly (number | null)[] | null | undefined,
    isOutput: boolean,
  ): void {
    const kind = isOutput ? 'response' : 'prompt'
    validateTokenIds(tokenIds, kind)
    if (tokenIds.length === 0) return
    let kept: readonly (number | null)[] | null = null
    let logprobsDropped = false
    if (logprobs !== undefined && logprobs !== null) {
      validateLogprobs(logprobs, kind)
      if (logprobs.length === tokenIds.length) kept = logprobs
      else if (this.#strict) throw new LogprobLengthError(kind, tokenIds.length, logprobs.length)
      else logprobsDropped = true
    }
    const start = this.#length
    const count = tokenIds.length
    const chunks = this.#chunks
    // copying into the chunks also snapshots the caller's arrays: later changes to them do not leak in
    for (let index = 0; index < count; index += 1) {
      const position = start + index
      const offset = position & CHUNK_MASK
      if (offset === 0 && chunks.length === position >>> CHUNK_BITS) chunks.push(createChunk())
      const chunk = chunks[position >>> CHUNK_BITS]!
      chunk.ids[offset] = tokenIds[index]!
      chunk.logprobs[offset] = kept === null ? Number.NaN : (kept[index] ?? Number.NaN)
    }
    this.#length = start + count
    this.#ranges.push({ start, length: count, isOutput, hasLogprobs: kept !== null, logprobsDropped })
  }
}

/**
 * An empty array whose elements V8 stores unboxed, as doubles (a non-integer fixes that element kind, and it
 * stays when the array is emptied). The `tokenIds` and `lossMask` views are the largest objects a manager makes
 * (8 bytes per token either way): stored as doubles, the garbage collector never visits their elements, so the
 * scavenge that promotes a million-entry view and every major collection while it lives cost O(1) instead of a
 * scan of every slot. Values read back as the same numbers (ids are integers below 2^32, exact in a double).
 */
function unboxedNumberArray<Value extends number>(): Value[] {
  const array = [0.5]
  array.length = 0
  return array as Value[]
}

/**
 * Grows `view` to `length` in one step and returns its previous length, the first index to fill. Setting
 * `length` once and filling by index is linear; element-wise `push` on million-entry arrays is not quite.
 */
function growView(view: unknown[], length: number): number {
  const start = view.length
  if (start < length) view.length = length
  return start
}
