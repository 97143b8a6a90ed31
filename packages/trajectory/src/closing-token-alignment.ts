/**
 * Where the new messages start in a prompt that re-rendered the history: just after the k-th occurrence of
 * the context's last token (a response ends with its closing token, e.g. `<|im_end|>`), where k is how often
 * that token occurs in the context. `null` when the prompt holds fewer occurrences, or when the last token is
 * not a special token (a response cut by `length`): an ordinary token also occurs in the new messages, so
 * counting it could align inside them and drop or repeat tokens.
 */
export function findClosingTokenAlignment(
  context: readonly number[],
  prompt: readonly number[],
  specialTokenIds: ReadonlySet<number>,
): { offset: number; closingTokenId: number } | null {
  const closingTokenId = context.at(-1)
  if (closingTokenId === undefined || !specialTokenIds.has(closingTokenId)) return null
  let remaining = 0
  for (const id of context) if (id === closingTokenId) remaining += 1
  for (let index = 0; index < prompt.length; index += 1) {
    if (prompt[index] === closingTokenId) {
      remaining -= 1
      if (remaining === 0) return { offset: index + 1, closingTokenId }
    }
  }
  return null
}
