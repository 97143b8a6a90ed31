/**
 * A small seeded pseudo-random generator (mulberry32). Every random choice of the mock goes through one of
 * these, so the same seed gives the same ids, splits, logprobs and faults.
 */
export class SeededRandom {
  private state: number

  constructor(seed: number) {
    // mix the seed so that nearby seeds (1, 2, 3) do not start with correlated outputs
    this.state = (Math.imul(seed | 0, 0x9e3779b1) ^ 0x5bd1e995) >>> 0
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let value = this.state
    value = Math.imul(value ^ (value >>> 15), value | 1)
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61)
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296
  }

  /** An integer in [0, bound). */
  nextInt(bound: number): number {
    return Math.floor(this.next() * bound)
  }

  /** `length` lower-case hex digits. */
  hex(length: number): string {
    let text = ''
    while (text.length < length) text += this.nextInt(0x10000).toString(16).padStart(4, '0')
    return text.slice(0, length)
  }

  /** A child generator, so one request's draws do not shift another's. */
  fork(salt: number): SeededRandom {
    return new SeededRandom((this.nextInt(0x7fffffff) ^ Math.imul(salt, 0x85ebca6b)) | 0)
  }
}
