import type { TokenManager } from './token-manager'
import type { SequenceTurn, TrainingSequence } from './trajectory-types'

/** A sequence the builder is still appending to. */
export interface OpenSequence {
  /** Holds the ids, loss mask and logprobs. */
  manager: TokenManager
  /** Length of the first turn's prompt. */
  promptLength: number
  /** The turns appended so far. */
  turns: SequenceTurn[]
  /** Why the sequence is not exact, so far. */
  issues: string[]
}

/** An independent {@link TrainingSequence} copy of `sequence`, the `index`-th of its trajectory. */
export function materialize(sequence: OpenSequence, index: number): TrainingSequence {
  const { manager } = sequence
  const lossMask = manager.lossMask.slice()
  const logprobs = manager.logprobs.slice()
  const logprobsComplete = lossMask.every((mask, position) => mask === 0 || logprobs[position] !== null)
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
