import { hasErrorMarker, type TokenRecord, type VerificationStatus, VLLMTitoError } from '@vllm-tito/spec'
import type { PrefixBreak } from './classify-prefix-break'

const MARKER = 'vllm-tito.error.trajectory'

const tokenInputSymbol = Symbol.for(`${MARKER}.token-input`)

/**
 * Token ids or logprobs handed to the {@link TokenManager} (or found in a record) are not what they must be:
 * ids must be integers from 0 to 2^32 - 1, logprobs finite numbers or `null`.
 */
export class TokenInputError extends VLLMTitoError {
  readonly [tokenInputSymbol] = true
  override readonly name: string = 'TokenInputError'
  /** Which argument was wrong. */
  readonly field: 'tokenIds' | 'logprobs'
  /** Position of the first bad entry, or `null` when the argument itself is not an array. */
  readonly index: number | null

  constructor(field: 'tokenIds' | 'logprobs', index: number | null, message: string) {
    super(message)
    this.field = field
    this.index = index
  }

  static override isInstance(error: unknown): error is TokenInputError {
    return hasErrorMarker(error, tokenInputSymbol)
  }
}

const logprobLengthSymbol = Symbol.for(`${MARKER}.logprob-length`)

/**
 * Strict mode only: a segment's logprobs do not have one entry per token id. Thrown instead of padding or
 * truncating, because a shifted logprob silently corrupts importance-sampling ratios.
 */
export class LogprobLengthError extends VLLMTitoError {
  readonly [logprobLengthSymbol] = true
  override readonly name: string = 'LogprobLengthError'
  /** Number of token ids in the segment. */
  readonly tokenCount: number
  /** Number of logprobs given for it. */
  readonly logprobCount: number

  constructor(segmentKind: 'prompt' | 'response', tokenCount: number, logprobCount: number) {
    super(
      `${segmentKind} logprobs length (${logprobCount}) must equal its token ids length (${tokenCount}); logprobs are never padded or truncated`,
    )
    this.tokenCount = tokenCount
    this.logprobCount = logprobCount
  }

  static override isInstance(error: unknown): error is LogprobLengthError {
    return hasErrorMarker(error, logprobLengthSymbol)
  }
}

const prefixBreakSymbol = Symbol.for(`${MARKER}.prefix-break`)

/** Policy `onBreak: 'throw'`: a turn's prompt does not start with the previous prompt + response. */
export class PrefixBreakError extends VLLMTitoError {
  readonly [prefixBreakSymbol] = true
  override readonly name: string = 'PrefixBreakError'
  /** The classified break, with the turn index and the first differing position. */
  readonly finding: PrefixBreak

  constructor(finding: PrefixBreak) {
    super(
      `turn ${finding.turnIndex}: prompt does not start with the previous prompt + response (${finding.kind} break at token ${finding.driftIndex}): ${finding.detail}`,
    )
    this.finding = finding
  }

  static override isInstance(error: unknown): error is PrefixBreakError {
    return hasErrorMarker(error, prefixBreakSymbol)
  }
}

const unverifiedSymbol = Symbol.for(`${MARKER}.unverified-record`)

/** Policy `unverified: 'throw'`: a record's ids are not verified against `usage`, so they may not be exact. */
export class UnverifiedRecordError extends VLLMTitoError {
  readonly [unverifiedSymbol] = true
  override readonly name: string = 'UnverifiedRecordError'
  /** Position of the record in the rollout. */
  readonly turnIndex: number
  /** The record's verification status. */
  readonly status: VerificationStatus
  /** The record itself. */
  readonly record: TokenRecord

  constructor(turnIndex: number, record: TokenRecord) {
    const issues = record.verification.issues.join('; ')
    super(
      `turn ${turnIndex}: token ids are not verified (status ${record.verification.status})${issues ? `: ${issues}` : ''}`,
    )
    this.turnIndex = turnIndex
    this.status = record.verification.status
    this.record = record
  }

  static override isInstance(error: unknown): error is UnverifiedRecordError {
    return hasErrorMarker(error, unverifiedSymbol)
  }
}

const inexactSymbol = Symbol.for(`${MARKER}.inexact-sequence`)

/**
 * A trainer export met a sequence whose ids are not exact (a flagged unverified turn or a lossy merge)
 * and was not told to skip or include such sequences.
 */
export class InexactSequenceError extends VLLMTitoError {
  readonly [inexactSymbol] = true
  override readonly name: string = 'InexactSequenceError'
  /** `index` of the sequence in its trajectory. */
  readonly sequenceIndex: number
  /** Why the sequence is not exact. */
  readonly issues: readonly string[]
  /** Position of the rollout in the exported batch, when the export was given rollouts. */
  readonly rolloutIndex: number | undefined

  constructor(sequenceIndex: number, issues: readonly string[], rolloutIndex?: number) {
    const where = rolloutIndex === undefined ? '' : `rollout ${rolloutIndex}: `
    super(
      `${where}sequence ${sequenceIndex} is not exact (${issues.join('; ')}); pass inexact: 'skip' or 'include' to export anyway`,
    )
    this.sequenceIndex = sequenceIndex
    this.issues = issues
    this.rolloutIndex = rolloutIndex
  }

  static override isInstance(error: unknown): error is InexactSequenceError {
    return hasErrorMarker(error, inexactSymbol)
  }
}

const duplicateResponseSymbol = Symbol.for(`${MARKER}.duplicate-response`)

/**
 * A record does not belong in the same rollout as an earlier one with the same `responseId`: either another
 * choice of the same `n > 1` response (each choice is its own rollout), or the very same record added again
 * (which would train its tokens twice).
 */
export class DuplicateResponseError extends VLLMTitoError {
  readonly [duplicateResponseSymbol] = true
  override readonly name: string = 'DuplicateResponseError'
  /** Position of the rejected record in the rollout. */
  readonly turnIndex: number
  /** Position of the earlier record with the same `responseId`. */
  readonly earlierTurnIndex: number
  /** The shared `responseId`. */
  readonly responseId: string
  /** `choiceIndex` of the rejected record. */
  readonly choiceIndex: number
  /** `choiceIndex` of the earlier record (equal to {@link choiceIndex} for a repeated record). */
  readonly earlierChoiceIndex: number

  constructor(
    turnIndex: number,
    earlierTurnIndex: number,
    responseId: string,
    choiceIndex: number,
    earlierChoiceIndex: number,
  ) {
    super(
      choiceIndex === earlierChoiceIndex
        ? `turn ${turnIndex}: the record repeats turn ${earlierTurnIndex} (response ${responseId}, choice ${choiceIndex}, same ids); adding it again would train its tokens twice`
        : `turn ${turnIndex}: the record is choice ${choiceIndex} of response ${responseId}, whose choice ${earlierChoiceIndex} is turn ${earlierTurnIndex}; the choices of an n > 1 response are separate rollouts: build one trajectory per choiceIndex`,
    )
    this.turnIndex = turnIndex
    this.earlierTurnIndex = earlierTurnIndex
    this.responseId = responseId
    this.choiceIndex = choiceIndex
    this.earlierChoiceIndex = earlierChoiceIndex
  }

  static override isInstance(error: unknown): error is DuplicateResponseError {
    return hasErrorMarker(error, duplicateResponseSymbol)
  }
}

/** The trainers the exports write rows for. */
export type TrainerName = 'verl' | 'skyrl' | 'slime' | 'agent-lightning'

/**
 * The trainer rule a batch of rollouts breaks:
 * - `unique-ids`: two rollouts share a task id and sample index, or a rollout id;
 * - `integer-ids`: slime numbers its groups and samples, so its ids must be integers;
 * - `single-sequence`: the trainer takes one row per rollout, and this rollout split into several sequences;
 * - `row-required`: the trainer needs a row for every rollout, and this one has no tokens to make it from;
 * - `rewards-all-or-none`: some rows of the batch have a reward and others `null`;
 * - `reward-required`: the trainer takes no `null` reward;
 * - `logprobs-all-or-none`: some rows have complete logprobs and others not (`mixedLogprobs: 'throw'`);
 * - `input-order`: the rollouts do not match the trainer's input batch one to one.
 */
export type TrainerRule =
  | 'unique-ids'
  | 'integer-ids'
  | 'single-sequence'
  | 'row-required'
  | 'rewards-all-or-none'
  | 'reward-required'
  | 'logprobs-all-or-none'
  | 'input-order'

const trainerRowSymbol = Symbol.for(`${MARKER}.trainer-row`)

/**
 * A batch of rollouts cannot become rows the trainer accepts as they are: thrown by the exports instead of
 * writing a row the trainer would reject (or silently misread) later. The message names the rollout and the fix.
 */
export class TrainerRowError extends VLLMTitoError {
  readonly [trainerRowSymbol] = true
  override readonly name: string = 'TrainerRowError'
  /** The trainer whose rule is broken. */
  readonly trainer: TrainerName
  /** Which rule. */
  readonly rule: TrainerRule
  /** Position of the offending rollout in the batch, or `null` for a rule about the batch as a whole. */
  readonly rolloutIndex: number | null

  constructor(trainer: TrainerName, rule: TrainerRule, rolloutIndex: number | null, message: string) {
    super(`${trainer}: ${rolloutIndex === null ? '' : `rollout ${rolloutIndex}: `}${message}`)
    this.trainer = trainer
    this.rule = rule
    this.rolloutIndex = rolloutIndex
  }

  static override isInstance(error: unknown): error is TrainerRowError {
    return hasErrorMarker(error, trainerRowSymbol)
  }
}
