import type { TokenRecord } from '@vllm-tito/spec'
import type { Trajectory } from '@vllm-tito/trajectory'
import { formatTable } from './format-table'

/**
 * The TITO table: one row per model call with its prompt and response id counts, how the trajectory builder
 * joined it (first turn of a sequence, exact prefix extension, or a new sequence after a break), the loss-mask
 * split of the tokens the call added to its sequence, and whether the ids are verified against vLLM's `usage`.
 */
export function formatTitoTable(records: readonly TokenRecord[], trajectory: Trajectory): string {
  const rows = records.map((record, turnIndex) => {
    const found = findTurn(trajectory, turnIndex)
    const joined = found ? describeJoin(trajectory, turnIndex, found.turn.join) : 'excluded'
    return [
      turnIndex,
      record.promptTokenIds?.length ?? '-',
      record.tokenIds?.length ?? '-',
      record.finishReason ?? '-',
      found ? found.sequenceIndex : '-',
      joined,
      found ? found.turn.responseStart - found.turn.promptStart : '-',
      found ? found.turn.responseEnd - found.turn.responseStart : '-',
      record.verification.verified ? 'yes' : `no (${record.verification.status})`,
    ]
  })
  return formatTable(
    ['call', 'prompt ids', 'response ids', 'finish', 'sequence', 'joined', 'mask 0', 'mask 1', 'verified'],
    rows,
  )
}

/** One line per training sequence: its length and loss-mask split, and whether it is exact. */
export function formatSequenceSummary(trajectory: Trajectory): string[] {
  return trajectory.sequences.map((sequence) => {
    const trained = sequence.lossMask.reduce<number>((sum, mask) => sum + mask, 0)
    const exact = sequence.exact ? 'exact' : `NOT exact: ${sequence.issues.join('; ')}`
    return `sequence ${sequence.index}: ${sequence.tokenIds.length} tokens = ${sequence.tokenIds.length - trained} with loss mask 0 (prompt, tool results) + ${trained} with loss mask 1 (model output); ${sequence.turns.length} call(s), ${exact}`
  })
}

function findTurn(trajectory: Trajectory, turnIndex: number) {
  for (const sequence of trajectory.sequences) {
    const turn = sequence.turns.find((candidate) => candidate.turnIndex === turnIndex)
    if (turn) return { sequenceIndex: sequence.index, turn }
  }
  return undefined
}

function describeJoin(trajectory: Trajectory, turnIndex: number, join: string): string {
  const prefixBreak = trajectory.breaks.find((candidate) => candidate.turnIndex === turnIndex)
  if (join === 'start') return prefixBreak ? `new (${prefixBreak.kind} break)` : 'start'
  if (join === 'prefix') return 'prefix'
  return `lossy (${prefixBreak?.kind ?? 'break'})`
}
