import { InvalidOptionError, OptionReader } from '@vllm-tito/spec'
import type { MockFault } from './mock-vllm-options'
import { SeededRandom } from './seeded-random'
import { badRequest } from './vllm-errors'

/** The keys each fault kind takes besides `kind` and `when`. */
const faultKeys: Record<MockFault['kind'], readonly string[]> = {
  'http-status': ['status', 'retryAfterSeconds'],
  reset: ['afterChunks'],
  stall: ['afterChunks', 'ms'],
  'malformed-chunk': ['afterChunks'],
  'mid-stream-error': ['afterChunks', 'message', 'code'],
  'wrong-token-ids-type': ['afterChunks'],
  'missing-done': [],
}
const faultKinds = Object.keys(faultKeys) as MockFault['kind'][]

const isFaultStatus = (value: unknown): value is 429 | 500 | 503 =>
  value === 429 || value === 500 || value === 503
const isNonNegativeNumber = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0
const isProbability = (value: unknown): value is number => isNonNegativeNumber(value) && value <= 1
const isRequestIndexList = (value: unknown): value is number[] =>
  Array.isArray(value) && value.every((index) => Number.isSafeInteger(index) && index >= 0)

/**
 * Checks one fault (from options, the command line or the `x-mock-fault` header): its kind, the keys that
 * kind takes and their values.
 *
 * @throws InvalidOptionError naming `where` and the offending key (a misspelt key names the closest one).
 */
export function validateFault(fault: unknown, where: string): MockFault {
  const read = new OptionReader(where, fault)
  const kind = read.oneOf('kind', faultKinds, { required: true })
  read.rejectUnknown(['kind', 'when', ...faultKeys[kind]])
  if (kind === 'http-status') {
    read.custom('status', '429, 500 or 503', isFaultStatus, { required: true })
    read.integer('retryAfterSeconds')
  } else if (kind !== 'missing-done') {
    read.integer('afterChunks', { required: true })
  }
  if (kind === 'stall') read.custom('ms', 'a finite number >= 0', isNonNegativeNumber, { required: true })
  if (kind === 'mid-stream-error') {
    read.string('message')
    read.integer('code', { minimum: 100, maximum: 599 })
  }
  const when = read.object('when')
  if (when !== undefined) {
    const readWhen = new OptionReader(`${where}.when`, when).rejectUnknown(['requestIndex', 'probability'])
    readWhen.custom('requestIndex', 'an array of request indices (integers >= 0)', isRequestIndexList)
    readWhen.custom('probability', 'a number from 0 to 1', isProbability)
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
    if (InvalidOptionError.isInstance(error)) throw badRequest(error.message)
    throw error
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
