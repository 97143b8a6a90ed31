import type { TokenInSegment, TokenRecord } from '@vllm-tito/spec'
import type { PrefixBreak } from './classify-prefix-break'

// what the builder reads from a token-in record (`TokenRecord.tokenIn`): it reports the record's statements
// next to its own findings, and never places a turn by them

/**
 * A token-in record's appended segments as offsets in the sequence, for a turn whose prompt suffix (from
 * `contextLength`) starts at `promptStart`; `undefined` for other records. Segments before the suffix (none,
 * when the mode and the builder kept the same turns) are left out.
 */
export function tokenInSegments(
  record: TokenRecord,
  contextLength: number,
  promptStart: number,
): TokenInSegment[] | undefined {
  if (record.tokenIn?.mode !== 'appended') return undefined
  const shift = promptStart - contextLength
  return record.tokenIn.segments
    .filter((segment) => segment.start >= contextLength)
    .map((segment) => ({ ...segment, start: segment.start + shift, end: segment.end + shift }))
}

/**
 * What a token-in record adds to a break: the re-render reason it states, or `appended` when it claims an
 * append its ids contradict; the detail says which.
 */
export function tokenInBreak(record: TokenRecord, detail: string): Pick<PrefixBreak, 'tokenIn' | 'detail'> {
  const tokenIn = record.tokenIn
  if (tokenIn === undefined) return { detail }
  if (tokenIn.mode === 'appended') {
    return {
      tokenIn: 'appended',
      detail: `the record says token-in mode appended to the previous turn, but its prompt ids do not extend it: ${detail}`,
    }
  }
  const why = tokenIn.detail === null ? '' : ` (${tokenIn.detail})`
  return {
    tokenIn: tokenIn.renderReason ?? 'first-call',
    detail: `token-in mode rendered this prompt from scratch: ${tokenIn.renderReason}${why}; ${detail}`,
  }
}
