import {
  OptionReader,
  sameIds,
  startsWithConcatenation,
  type TextTokenizer,
  TokenIdsUnavailableError,
  type TokenRecord,
} from '@vllm-tito/spec'
import { classifyBreak, type PrefixBreak, type PrefixBreakKind } from './classify-prefix-break'
import { findClosingTokenAlignment } from './closing-token-alignment'
import { DuplicateResponseError, LogprobLengthError, PrefixBreakError, UnverifiedRecordError } from './errors'
import { materialize, type OpenSequence } from './open-sequence'
import { readSpecialTokenIds, readTokenizer } from './read-shared-options'
import { tokenInBreak, tokenInSegments } from './token-in-turns'
import { validateLogprobs, validateTokenIds } from './token-input'
import { TokenManager } from './token-manager'
import type {
  BreakPolicy,
  ExcludedTurn,
  Trajectory,
  TrajectoryOptions,
  TurnJoin,
  TurnOutcome,
  UnverifiedPolicy,
} from './trajectory-types'

const BREAK_POLICIES: readonly BreakPolicy[] = ['new-sequence', 'throw', 'merge-lossy']
const UNVERIFIED_POLICIES: readonly UnverifiedPolicy[] = ['exclude', 'flag', 'throw']
const OPTION_NAMES = ['onBreak', 'unverified', 'strictLogprobs', 'specialTokenIds', 'tokenizer']

/** A record already placed in the rollout, remembered under its `responseId`. */
interface SeenResponse {
  turnIndex: number
  choiceIndex: number
  promptIds: readonly number[] | null
  responseIds: readonly number[] | null
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
  readonly #specialTokenIds: ReadonlySet<number> | undefined
  readonly #tokenizer: Pick<TextTokenizer, 'decode'> | undefined
  #turnCount = 0
  #sequences: OpenSequence[] = []
  #breaks: PrefixBreak[] = []
  #excludedTurns: ExcludedTurn[] = []
  #turnsMerged = 0
  #lossyMerges = 0
  #tokensInPerTurnRows = 0
  // the previous included turn's ids, against which the next prompt is checked (never copied)
  // Stryker disable next-line ArrayDeclaration: never read before the first sequence sets it
  #lastPrompt: readonly number[] = []
  // Stryker disable next-line ArrayDeclaration: never read before the first sequence sets it
  #lastResponse: readonly number[] = []
  #seenResponses = new Map<string, SeenResponse[]>()

  /**
   * @throws InvalidOptionError (from spec) on an unknown option, a value outside the allowed ones, or
   * `onBreak: 'merge-lossy'` without `specialTokenIds` (the closing token it aligns on must be known).
   */
  constructor(options: TrajectoryOptions = {}) {
    const read = new OptionReader('new TrajectoryBuilder', options).rejectUnknown(OPTION_NAMES)
    this.#onBreak =
      read.oneOf('onBreak', BREAK_POLICIES) ??
      // Stryker disable next-line StringLiteral: only 'throw' and 'merge-lossy' are tested for, so any default value starts new sequences
      'new-sequence'
    this.#unverified = read.oneOf('unverified', UNVERIFIED_POLICIES) ?? 'exclude'
    this.#strictLogprobs = read.boolean('strictLogprobs') ?? false
    this.#specialTokenIds = readSpecialTokenIds(read)
    this.#tokenizer = readTokenizer(read)
    if (this.#onBreak === 'merge-lossy' && this.#specialTokenIds === undefined) {
      read.fail(
        'onBreak',
        "option `onBreak: 'merge-lossy'` needs `specialTokenIds` (e.g. QWEN3_SPECIAL_TOKEN_IDS): it aligns on the previous turn's closing special token",
      )
    }
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
    if (startsWithConcatenation(promptIds, this.#lastPrompt, this.#lastResponse)) {
      this.#append(current, turnIndex, record, promptIds.slice(contextLength), responseIds, 'prefix')
      const segments = tokenInSegments(record, contextLength, current.turns.at(-1)!.promptStart)
      if (segments !== undefined) current.turns.at(-1)!.tokenInSegments = segments
      this.#turnsMerged += 1
      return { turnIndex, action: 'merged', break: null }
    }

    const context = [...this.#lastPrompt, ...this.#lastResponse]
    const classification = classifyBreak(context, promptIds, this.#specialTokenIds, this.#tokenizer)
    // the prefix check failed, so there is a break to classify
    const finding: PrefixBreak = {
      turnIndex,
      ...classification!,
      ...tokenInBreak(record, classification!.detail),
    }
    if (this.#onBreak === 'throw') throw new PrefixBreakError(finding)
    this.#breaks.push(finding)
    if (this.#onBreak === 'merge-lossy') {
      // the constructor refuses merge-lossy without specialTokenIds
      const mergePoint = findClosingTokenAlignment(context, promptIds, this.#specialTokenIds!)
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
    // Stryker disable next-line ArrayDeclaration: never read before the next first sequence sets it
    this.#lastPrompt = []
    // Stryker disable next-line ArrayDeclaration: never read before the next first sequence sets it
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
        sameNonNullIds(earlier.promptIds, record.promptTokenIds) &&
        sameNonNullIds(earlier.responseIds, record.tokenIds)
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
      // Stryker disable next-line ObjectLiteral: `#place` already threw on what a strict manager would refuse
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
    // Stryker disable next-line OptionalChaining: `#place` only appends records with prompt ids
    this.#tokensInPerTurnRows += (record.promptTokenIds?.length ?? 0) + responseIds.length
    sequence.turns.push({
      turnIndex,
      join,
      promptStart,
      responseStart,
      responseEnd: sequence.manager.length,
      finishReason: record.finishReason,
      verified,
      startedAt: record.timing.startedAt,
      endedAt: record.timing.endedAt,
    })
    if (!verified) {
      const issues = record.verification.issues.join('; ')
      sequence.issues.push(
        `turn ${turnIndex}: token ids not verified (${record.verification.status})${issues ? `: ${issues}` : ''}`,
      )
    }
    // Stryker disable next-line ArrayDeclaration: `#place` only appends records with prompt ids
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

/** `true` when both are non-null and hold the same ids in the same order. */
function sameNonNullIds(left: readonly number[] | null, right: readonly number[] | null): boolean {
  return left !== null && right !== null && sameIds(left, right)
}
