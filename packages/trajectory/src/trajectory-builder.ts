import {
  type FinishReason,
  type TextTokenizer,
  TokenIdsUnavailableError,
  type TokenRecord,
  type VerificationStatus,
} from '@vllm-tito/spec'
import {
  classifyPrefixBreak,
  type PrefixBreak,
  type PrefixBreakKind,
  QWEN3_SPECIAL_TOKEN_IDS,
} from './classify-prefix-break'
import { DuplicateResponseError, LogprobLengthError, PrefixBreakError, UnverifiedRecordError } from './errors'
import { TokenManager, validateLogprobs, validateTokenIds } from './token-manager'

/**
 * What to do when a turn's prompt does not start with the previous prompt + response:
 * - `new-sequence` (default): close the current sequence and start a new one with this turn (step-wise
 *   fallback, exact);
 * - `throw`: throw {@link PrefixBreakError};
 * - `merge-lossy`: keep one sequence by appending only the part of the new prompt after the previous turn's
 *   closing token (e.g. `<|im_end|>`), located by counting that token; the sequence is flagged inexact
 *   (`exact: false`) because the model saw a different history than the sequence holds. Falls back to
 *   `new-sequence` when the closing token cannot be located, or when the previous turn does not end in a
 *   special token (a response cut by `length`): counting an ordinary token could align inside the new
 *   messages and drop or repeat tokens.
 */
export type BreakPolicy = 'new-sequence' | 'throw' | 'merge-lossy'

/**
 * What to do with a record whose `verification.verified` is `false` (ids missing, counts differing from
 * `usage`, no `usage`, or an interrupted call):
 * - `exclude` (default): leave the turn out. Its response is not trained on; if a later prompt extends the
 *   last included context, the excluded turn's tokens arrive inside that prompt's suffix with loss mask 0;
 * - `flag`: include it, but mark its sequence `exact: false` with an issue (trainer exports refuse inexact
 *   sequences unless told otherwise). Records without ids cannot be included and are excluded;
 * - `throw`: throw {@link UnverifiedRecordError} (or spec's `TokenIdsUnavailableError` when ids are missing).
 */
export type UnverifiedPolicy = 'exclude' | 'flag' | 'throw'

/** Options of the {@link TrajectoryBuilder}. */
export interface TrajectoryOptions {
  /** Policy for prefix breaks. Default `new-sequence`. */
  onBreak?: BreakPolicy
  /** Policy for unverified records. Default `exclude`. */
  unverified?: UnverifiedPolicy
  /** Throw `LogprobLengthError` on a record whose logprobs do not align with its ids (default: drop them). */
  strictLogprobs?: boolean
  /** Special-token ids for the `template` class. Default `QWEN3_SPECIAL_TOKEN_IDS`. */
  specialTokenIds?: Iterable<number>
  /** Decoder for the `retokenization` class and for log excerpts; without it such breaks are `other`. */
  tokenizer?: Pick<TextTokenizer, 'decode'>
}

/** How a turn joined its sequence. */
export type TurnJoin = 'start' | 'prefix' | 'lossy'

/** Where one turn lies inside its sequence (token offsets, end exclusive). */
export interface SequenceTurn {
  /** Position of the record in the rollout (0-based). */
  turnIndex: number
  /** How the turn joined: first turn of the sequence, exact prefix extension, or lossy merge. */
  join: TurnJoin
  /** Offset of the prompt tokens this turn added (for `start`: 0). */
  promptStart: number
  /** Offset of the turn's response (= end of its added prompt tokens). */
  responseStart: number
  /** End of the turn's response. */
  responseEnd: number
  /** The record's finish reason. */
  finishReason: FinishReason | null
  /** The record's `verification.verified`. */
  verified: boolean
}

/** One training row: a sequence of merged turns with its loss mask and logprobs. */
export interface TrainingSequence {
  /** Position in {@link Trajectory.sequences}. */
  index: number
  /** Every token id: the first prompt, then per turn the new prompt suffix and the response. */
  tokenIds: number[]
  /** `1` on response tokens, `0` on prompt, tool-result and user tokens. Same length as `tokenIds`. */
  lossMask: Array<0 | 1>
  /** Logprob per token, `null` where none is known (prompt tokens, or responses without logprobs). */
  logprobs: Array<number | null>
  /** Length of the first turn's prompt: everything after it is the "response" part trainers take. */
  promptLength: number
  /** The turns of this sequence, in order. */
  turns: SequenceTurn[]
  /** `true` when every token id is exactly what vLLM served and the sequence is what the model saw. */
  exact: boolean
  /** Why the sequence is not exact (empty when it is). */
  issues: string[]
  /** `true` when every loss-mask-1 token has a logprob. */
  logprobsComplete: boolean
}

/** A turn the builder left out (policy `exclude`, or a record without ids under `flag`). */
export interface ExcludedTurn {
  /** Position of the record in the rollout. */
  turnIndex: number
  /** The record's verification status. */
  status: VerificationStatus
  /** Why, in words. */
  detail: string
}

/** Counters of one build. */
export interface TrajectoryMetrics {
  /** Records given. */
  turns: number
  /** Records that are part of a sequence. */
  turnsIncluded: number
  /** Turns appended to an existing sequence because their prompt extended the previous context exactly. */
  turnsMerged: number
  /** Turns appended across a break by the `merge-lossy` policy. */
  lossyMerges: number
  /** Records left out. */
  turnsExcluded: number
  /** Sequences produced. */
  sequences: number
  /** Prefix breaks by class. */
  breaks: Record<PrefixBreakKind, number>
  /** Tokens in all sequences. */
  tokensInSequences: number
  /** Tokens one row per included turn (prompt + response each) would hold. */
  tokensInPerTurnRows: number
  /** `tokensInPerTurnRows - tokensInSequences`: history not repeated thanks to merging. */
  tokensSaved: number
  /** `tokensInPerTurnRows / tokensInSequences` (1 when empty). */
  compressionRatio: number
}

/** The result of a build: training sequences, the breaks found, excluded turns and metrics. */
export interface Trajectory {
  /** Training sequences in order. */
  sequences: TrainingSequence[]
  /** Every prefix break found, in turn order. */
  breaks: PrefixBreak[]
  /** Turns left out. */
  excludedTurns: ExcludedTurn[]
  /** Counters. */
  metrics: TrajectoryMetrics
}

/** What {@link TrajectoryBuilder.add} did with one record. */
export interface TurnOutcome {
  /** Position of the record in the rollout. */
  turnIndex: number
  /** `started` a sequence, `merged` into one, `merged-lossy` across a break, or `excluded`. */
  action: 'started' | 'merged' | 'merged-lossy' | 'excluded'
  /** The break found before this turn, when there was one. */
  break: PrefixBreak | null
}

/** A record already placed in the rollout, remembered under its `responseId`. */
interface SeenResponse {
  turnIndex: number
  choiceIndex: number
  promptIds: readonly number[] | null
  responseIds: readonly number[] | null
}

interface OpenSequence {
  manager: TokenManager
  promptLength: number
  turns: SequenceTurn[]
  issues: string[]
}

/**
 * Turns the {@link TokenRecord}s of one rollout, in call order, into training sequences. The first turn
 * gives the prompt (mask 0) and response (mask 1). A later turn whose prompt ids start with the previous
 * prompt + response ids adds only the new prompt suffix (tool results, user turns; mask 0) and its response
 * (mask 1) — the history is never repeated. Otherwise the break is classified and the {@link BreakPolicy}
 * applies. Unverified records never silently become exact rows (see {@link UnverifiedPolicy}).
 *
 * One builder per rollout; records are not modified. The choices of an `n > 1` response are separate
 * rollouts: a record sharing its `responseId` with an earlier one but with another `choiceIndex`, or the same
 * record added twice, throws {@link DuplicateResponseError}. Records of different calls may have any
 * `choiceIndex` (e.g. the agent continued with choice 1).
 *
 * A throwing `add` leaves the sequences, breaks and metrics as they were (only the turn counter advances).
 */
export class TrajectoryBuilder {
  readonly #onBreak: BreakPolicy
  readonly #unverified: UnverifiedPolicy
  readonly #strictLogprobs: boolean
  readonly #specialTokenIds: ReadonlySet<number>
  readonly #tokenizer: Pick<TextTokenizer, 'decode'> | undefined
  #turnCount = 0
  #sequences: OpenSequence[] = []
  #breaks: PrefixBreak[] = []
  #excludedTurns: ExcludedTurn[] = []
  #turnsMerged = 0
  #lossyMerges = 0
  #tokensInPerTurnRows = 0
  // the previous included turn's ids, against which the next prompt is checked (never copied)
  #lastPrompt: readonly number[] = []
  #lastResponse: readonly number[] = []
  #seenResponses = new Map<string, SeenResponse[]>()

  constructor(options: TrajectoryOptions = {}) {
    this.#onBreak = options.onBreak ?? 'new-sequence'
    this.#unverified = options.unverified ?? 'exclude'
    this.#strictLogprobs = options.strictLogprobs ?? false
    this.#specialTokenIds = options.specialTokenIds
      ? new Set(options.specialTokenIds)
      : QWEN3_SPECIAL_TOKEN_IDS
    this.#tokenizer = options.tokenizer
  }

  /** Adds the next record of the rollout and reports what happened to it. */
  add(record: TokenRecord): TurnOutcome {
    const turnIndex = this.#turnCount
    this.#turnCount += 1
    this.#rejectDuplicateResponse(turnIndex, record)
    const outcome = this.#place(turnIndex, record)
    // remembered only once accepted, so a record rejected by an error can be fixed and added again
    this.#rememberResponse(turnIndex, record)
    return outcome
  }

  #place(turnIndex: number, record: TokenRecord): TurnOutcome {
    const promptIds = record.promptTokenIds
    const responseIds = record.tokenIds
    if (promptIds === null || responseIds === null) {
      if (this.#unverified === 'throw') {
        throw new TokenIdsUnavailableError([record], `turn ${turnIndex}: the record has no token ids`)
      }
      return this.#exclude(turnIndex, record, 'the record has no token ids')
    }
    validateTokenIds(promptIds, `turn ${turnIndex} prompt`)
    validateTokenIds(responseIds, `turn ${turnIndex} response`)
    // checked before anything is appended, so a rejected record leaves the builder unchanged
    if (record.logprobs !== null) {
      validateLogprobs(record.logprobs, `turn ${turnIndex} response`)
      if (this.#strictLogprobs && record.logprobs.length !== responseIds.length) {
        throw new LogprobLengthError('response', responseIds.length, record.logprobs.length)
      }
    }
    const verified = record.verification.verified
    if (!verified) {
      if (this.#unverified === 'throw') throw new UnverifiedRecordError(turnIndex, record)
      if (this.#unverified === 'exclude') {
        return this.#exclude(turnIndex, record, `token ids not verified (${record.verification.status})`)
      }
    }
    const current = this.#sequences.at(-1)
    if (current === undefined) {
      this.#start(turnIndex, record, promptIds, responseIds)
      return { turnIndex, action: 'started', break: null }
    }
    const contextLength = this.#lastPrompt.length + this.#lastResponse.length
    if (extendsContext(promptIds, this.#lastPrompt, this.#lastResponse)) {
      this.#append(current, turnIndex, record, promptIds.slice(contextLength), responseIds, 'prefix')
      this.#turnsMerged += 1
      return { turnIndex, action: 'merged', break: null }
    }

    const context = [...this.#lastPrompt, ...this.#lastResponse]
    const classification = classifyPrefixBreak(context, promptIds, {
      specialTokenIds: this.#specialTokenIds,
      ...(this.#tokenizer ? { tokenizer: this.#tokenizer } : {}),
    })
    // extendsContext was false, so there is a break to classify
    const finding: PrefixBreak = { turnIndex, ...classification! }
    if (this.#onBreak === 'throw') throw new PrefixBreakError(finding)
    this.#breaks.push(finding)
    if (this.#onBreak === 'merge-lossy') {
      const mergePoint = findClosingTokenAlignment(context, promptIds, this.#specialTokenIds)
      if (mergePoint !== null) {
        this.#append(current, turnIndex, record, promptIds.slice(mergePoint.offset), responseIds, 'lossy')
        current.issues.push(
          `turn ${turnIndex}: merged across a ${finding.kind} break by aligning on closing token ${mergePoint.closingTokenId}; the model saw a different history than this sequence holds`,
        )
        this.#lossyMerges += 1
        return { turnIndex, action: 'merged-lossy', break: finding }
      }
    }
    this.#start(turnIndex, record, promptIds, responseIds)
    return { turnIndex, action: 'started', break: finding }
  }

  /** Adds several records in order. */
  addAll(records: Iterable<TokenRecord>): void {
    for (const record of records) this.add(record)
  }

  /** The sequences, breaks and metrics so far, as independent copies (the builder can keep going). */
  build(): Trajectory {
    const sequences = this.#sequences.map((sequence, index) => materialize(sequence, index))
    const tokensInSequences = sequences.reduce((sum, sequence) => sum + sequence.tokenIds.length, 0)
    const breaks: Record<PrefixBreakKind, number> = { template: 0, retokenization: 0, other: 0 }
    for (const finding of this.#breaks) breaks[finding.kind] += 1
    const turnsIncluded = sequences.reduce((sum, sequence) => sum + sequence.turns.length, 0)
    return {
      sequences,
      breaks: this.#breaks.map((finding) => ({ ...finding })),
      excludedTurns: this.#excludedTurns.map((turn) => ({ ...turn })),
      metrics: {
        turns: this.#turnCount,
        turnsIncluded,
        turnsMerged: this.#turnsMerged,
        lossyMerges: this.#lossyMerges,
        turnsExcluded: this.#excludedTurns.length,
        sequences: sequences.length,
        breaks,
        tokensInSequences,
        tokensInPerTurnRows: this.#tokensInPerTurnRows,
        tokensSaved: this.#tokensInPerTurnRows - tokensInSequences,
        compressionRatio: tokensInSequences === 0 ? 1 : this.#tokensInPerTurnRows / tokensInSequences,
      },
    }
  }

  /** Forgets everything, for the next rollout. */
  reset(): void {
    this.#turnCount = 0
    this.#sequences = []
    this.#breaks = []
    this.#excludedTurns = []
    this.#turnsMerged = 0
    this.#lossyMerges = 0
    this.#tokensInPerTurnRows = 0
    this.#lastPrompt = []
    this.#lastResponse = []
    this.#seenResponses = new Map()
  }

  /** Throws when `record` is a sibling choice, or a repeat, of a record already in this rollout. */
  #rejectDuplicateResponse(turnIndex: number, record: TokenRecord): void {
    if (record.responseId === null) return
    for (const earlier of this.#seenResponses.get(record.responseId) ?? []) {
      const sibling = earlier.choiceIndex !== record.choiceIndex
      // ids are compared too: a proxy that sends one constant id for every call must not trip this
      const repeated =
        !sibling &&
        sameIds(earlier.promptIds, record.promptTokenIds) &&
        sameIds(earlier.responseIds, record.tokenIds)
      if (sibling || repeated) {
        throw new DuplicateResponseError(
          turnIndex,
          earlier.turnIndex,
          record.responseId,
          record.choiceIndex,
          earlier.choiceIndex,
        )
      }
    }
  }

  #rememberResponse(turnIndex: number, record: TokenRecord): void {
    if (record.responseId === null) return
    const seen: SeenResponse = {
      turnIndex,
      choiceIndex: record.choiceIndex,
      promptIds: record.promptTokenIds,
      responseIds: record.tokenIds,
    }
    const earlier = this.#seenResponses.get(record.responseId)
    if (earlier) earlier.push(seen)
    else this.#seenResponses.set(record.responseId, [seen])
  }

  #exclude(turnIndex: number, record: TokenRecord, reason: string): TurnOutcome {
    const issues = record.verification.issues.join('; ')
    this.#excludedTurns.push({
      turnIndex,
      status: record.verification.status,
      detail: issues ? `${reason}: ${issues}` : reason,
    })
    return { turnIndex, action: 'excluded', break: null }
  }

  #start(
    turnIndex: number,
    record: TokenRecord,
    promptIds: readonly number[],
    responseIds: readonly number[],
  ): void {
    const sequence: OpenSequence = {
      manager: new TokenManager({ strict: this.#strictLogprobs }),
      promptLength: promptIds.length,
      turns: [],
      issues: [],
    }
    this.#sequences.push(sequence)
    this.#append(sequence, turnIndex, record, promptIds, responseIds, 'start')
  }

  #append(
    sequence: OpenSequence,
    turnIndex: number,
    record: TokenRecord,
    newPromptIds: readonly number[],
    responseIds: readonly number[],
    join: TurnJoin,
  ): void {
    const promptStart = sequence.manager.length
    sequence.manager.addPrompt(newPromptIds)
    const responseStart = sequence.manager.length
    sequence.manager.addResponse(responseIds, record.logprobs)
    const verified = record.verification.verified
    this.#tokensInPerTurnRows += (record.promptTokenIds?.length ?? 0) + responseIds.length
    sequence.turns.push({
      turnIndex,
      join,
      promptStart,
      responseStart,
      responseEnd: sequence.manager.length,
      finishReason: record.finishReason,
      verified,
    })
    if (!verified) {
      const issues = record.verification.issues.join('; ')
      sequence.issues.push(
        `turn ${turnIndex}: token ids not verified (${record.verification.status})${issues ? `: ${issues}` : ''}`,
      )
    }
    this.#lastPrompt = record.promptTokenIds ?? []
    this.#lastResponse = responseIds
  }
}

/** Builds the training sequences of one rollout's records (a one-shot {@link TrajectoryBuilder}). */
export function buildTrajectory(records: Iterable<TokenRecord>, options: TrajectoryOptions = {}): Trajectory {
  const builder = new TrajectoryBuilder(options)
  builder.addAll(records)
  return builder.build()
}

/** `true` when `prompt` starts with `previousPrompt` followed by `previousResponse`, without concatenating. */
function extendsContext(
  prompt: readonly number[],
  previousPrompt: readonly number[],
  previousResponse: readonly number[],
): boolean {
  const promptLength = previousPrompt.length
  if (prompt.length < promptLength + previousResponse.length) return false
  for (let index = 0; index < promptLength; index += 1) {
    if (prompt[index] !== previousPrompt[index]) return false
  }
  for (let index = 0; index < previousResponse.length; index += 1) {
    if (prompt[promptLength + index] !== previousResponse[index]) return false
  }
  return true
}

/** `true` when both are non-null and hold the same ids in the same order. */
function sameIds(left: readonly number[] | null, right: readonly number[] | null): boolean {
  if (left === null || right === null || left.length !== right.length) return false
  for (let index = 0; index < left.length; index += 1) if (left[index] !== right[index]) return false
  return true
}

/**
 * Where the new messages start in a prompt that re-rendered the history: just after the k-th occurrence of
 * the context's last token (a response ends with its closing token, e.g. `<|im_end|>`), where k is how often
 * that token occurs in the context. `null` when the prompt holds fewer occurrences, or when the last token is
 * not a special token (a response cut by `length`): an ordinary token also occurs in the new messages, so
 * counting it could align inside them and drop or repeat tokens.
 */
function findClosingTokenAlignment(
  context: readonly number[],
  prompt: readonly number[],
  specialTokenIds: ReadonlySet<number>,
): { offset: number; closingTokenId: number } | null {
  const closingTokenId = context.at(-1)
  if (closingTokenId === undefined || !specialTokenIds.has(closingTokenId)) return null
  let remaining = 0
  for (const id of context) if (id === closingTokenId) remaining += 1
  for (let index = 0; index < prompt.length; index += 1) {
    if (prompt[index] === closingTokenId) {
      remaining -= 1
      if (remaining === 0) return { offset: index + 1, closingTokenId }
    }
  }
  return null
}

function materialize(sequence: OpenSequence, index: number): TrainingSequence {
  const { manager } = sequence
  const lossMask = manager.lossMask.slice()
  const logprobs = manager.logprobs.slice()
  let logprobsComplete = true
  for (let position = 0; position < lossMask.length; position += 1) {
    if (lossMask[position] === 1 && logprobs[position] === null) {
      logprobsComplete = false
      break
    }
  }
  return {
    index,
    tokenIds: manager.tokenIds.slice(),
    lossMask,
    logprobs,
    promptLength: sequence.promptLength,
    turns: sequence.turns.map((turn) => ({ ...turn })),
    exact: sequence.issues.length === 0,
    issues: sequence.issues.slice(),
    logprobsComplete,
  }
}
