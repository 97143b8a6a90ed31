import { type TokenRecord, VLLMTitoError } from '@vllm-tito/spec'

/**
 * What the streaming and the non-streaming call share: a call is read once, by iteration or by `final()`, and
 * its records (or its failure) are one outcome that `final()` hands out however the call was consumed.
 */
export class SingleConsumer {
  /** The call's records or failure; settled once. */
  readonly outcome: Promise<TokenRecord[]>
  #settle!: { resolve(records: TokenRecord[]): void; reject(error: unknown): void }
  #consumer: 'none' | 'iterator' | 'final' = 'none'

  constructor() {
    this.outcome = new Promise<TokenRecord[]>((resolve, reject) => {
      this.#settle = { resolve, reject }
    })
    // the outcome is also delivered through iteration; a caller who only iterates must not see an
    // unhandled rejection from the copy kept for final()
    this.outcome.catch(() => {})
  }

  /**
   * Claims the call for `consumer`. `true` the first time; afterwards `false` for `final()` (it just awaits the
   * outcome) and, for an iteration, the error its `next()` rejects with.
   */
  claim(consumer: 'iterator' | 'final'): true | false | VLLMTitoError {
    if (this.#consumer === 'none') {
      this.#consumer = consumer
      return true
    }
    if (consumer === 'final') return false
    const previous = this.#consumer === 'final' ? 'final()' : 'another iteration'
    return new VLLMTitoError(`this TokenStream is already consumed by ${previous}; a stream can be read once`)
  }

  resolve(records: TokenRecord[]): void {
    this.#settle.resolve(records)
  }

  reject(error: unknown): void {
    this.#settle.reject(error)
  }
}
