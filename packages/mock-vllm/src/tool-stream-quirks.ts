import type { ToolStreamQuirk } from './mock-vllm-options'

/** Every {@link ToolStreamQuirk}, to validate options coming from JavaScript or the command line. */
export const toolStreamQuirkNames: readonly ToolStreamQuirk[] = [
  'arguments-in-finish-chunk',
  'one-piece-arguments',
  'drop-empty-arguments',
  'required-name-null',
]

/** Whether a value names a {@link ToolStreamQuirk}. */
export function isToolStreamQuirk(value: unknown): value is ToolStreamQuirk {
  return toolStreamQuirkNames.includes(value as ToolStreamQuirk)
}
