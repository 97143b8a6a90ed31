import { TokenIdsMismatchError, TokenIdsUnavailableError, type TokenRecord } from '@vllm-tito/spec'
import type { MismatchPolicy } from './utility-types'

/** How strictly a call treats missing or unverified token ids. */
export interface TokenIdPolicy {
  /** Throw {@link TokenIdsUnavailableError} when a record has no ids (instead of flagging it `unavailable`). */
  requireTokenIds: boolean
  /** `throw`: throw {@link TokenIdsMismatchError} when a record's ids disagree with `usage`. */
  onMismatch: MismatchPolicy
}

/** Throws the spec error the policy asks for; otherwise the flagged records pass through unchanged. */
export function enforceTokenIdPolicy(records: TokenRecord[], policy: TokenIdPolicy): void {
  if (policy.requireTokenIds) {
    const unavailable = records.find((record) => record.verification.status === 'unavailable')
    if (unavailable !== undefined) {
      throw new TokenIdsUnavailableError(
        records,
        `token ids are required (requireTokenIds) but ${unavailable.verification.issues.join('; ')}`,
      )
    }
  }
  if (policy.onMismatch === 'throw') {
    const mismatch = records.find((record) => record.verification.status === 'mismatch')
    if (mismatch !== undefined) throw new TokenIdsMismatchError(records, mismatch.verification)
  }
}
