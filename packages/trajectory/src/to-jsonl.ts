/** Rows as JSON Lines: one `JSON.stringify`d row per line, each line ending in `\n`. */
export function toJsonl(rows: readonly unknown[]): string {
  let text = ''
  for (const row of rows) text += `${JSON.stringify(row)}\n`
  return text
}
