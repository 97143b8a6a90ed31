import type { MockFault } from './mock-vllm-options'
import { SeededRandom } from './seeded-random'
import { badRequest } from './vllm-errors'

const faultKinds = new Set([
  'http-status',
  'reset',
  'stall',
  'malformed-chunk',
  'mid-stream-error',
  'wrong-token-ids-type',
  'missing-done',
])

/** Checks one fault (from options or the `x-mock-fault` header); throws a TypeError naming the problem. */
export function validateFault(fault: unknown, where: string): MockFault {
  if (typeof fault !== 'object' || fault === null) throw new TypeError(`${where} must be an object`)
  const candidate = fault as Record<string, unknown>
  if (typeof candidate.kind !== 'string' || !faultKinds.has(candidate.kind)) {
    throw new TypeError(
      `${where}.kind must be one of ${[...faultKinds].join(', ')}, got ${String(candidate.kind)}`,
    )
  }
  if (candidate.kind === 'http-status' && ![429, 500, 503].includes(candidate.status as number)) {
    throw new TypeError(`${where}.status must be 429, 500 or 503, got ${String(candidate.status)}`)
  }
  if (candidate.kind !== 'http-status' && candidate.kind !== 'missing-done') {
    const after = candidate.afterChunks
    if (!Number.isInteger(after) || (after as number) < 0) {
      throw new TypeError(`${where}.afterChunks must be a non-negative integer, got ${String(after)}`)
    }
  }
  if (candidate.kind === 'stall' && !(typeof candidate.ms === 'number' && candidate.ms >= 0)) {
    throw new TypeError(`${where}.ms must be a non-negative number, got ${String(candidate.ms)}`)
  }
  return fault as MockFault
}

/** The fault from an `x-mock-fault` header, or a 400 naming the header when it is not a valid fault. */
export function faultFromHeader(header: string | string[] | undefined): MockFault | undefined {
  if (header === undefined) return undefined
  const text = Array.isArray(header) ? header[0]! : header
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw badRequest(`x-mock-fault header is not valid JSON: ${text}`)
  }
  try {
    return validateFault(parsed, 'x-mock-fault')
  } catch (error) {
    throw badRequest((error as Error).message)
  }
}

/**
 * The faults that apply to the generation request `requestIndex`. Probabilities are drawn from a generator
 * seeded with (seed, requestIndex), so the same seed gives the same faults whatever the request timing.
 */
export function faultsForRequest(faults: MockFault[], seed: number, requestIndex: number): MockFault[] {
  const random = new SeededRandom(seed * 7919 + requestIndex * 104729 + 17)
  return faults.filter((fault) => {
    const when = fault.when
    if (when?.requestIndex && !when.requestIndex.includes(requestIndex)) return false
    if (when?.probability !== undefined && random.next() >= when.probability) return false
    return true
  })
}
