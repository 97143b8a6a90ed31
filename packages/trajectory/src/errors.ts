import { type TokenRecord, type VerificationStatus, VLLMTitoError } from '@vllm-tito/spec'
import type { PrefixBreak } from './classify-prefix-break'

const MARKER = 'vllm-tito.error.trajectory'

/** Checks a marker by `Symbol.for` key, so errors from a second installed copy are recognised too. */
function hasMarker(error: unknown, marker: symbol): boolean {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true
}

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
    return hasMarker(error, tokenInputSymbol)
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
    return hasMarker(error, logprobLengthSymbol)
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
    return hasMarker(error, prefixBreakSymbol)
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
    return hasMarker(error, unverifiedSymbol)
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

  constructor(sequenceIndex: number, issues: readonly string[]) {
    super(
      `sequence ${sequenceIndex} is not exact (${issues.join('; ')}); pass inexact: 'skip' or 'include' to export anyway`,
    )
    this.sequenceIndex = sequenceIndex
    this.issues = issues
  }

  static override isInstance(error: unknown): error is InexactSequenceError {
    return hasMarker(error, inexactSymbol)
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
    return hasMarker(error, duplicateResponseSymbol)
  }
}
