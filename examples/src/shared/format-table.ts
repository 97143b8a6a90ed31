/**
 * Formats rows as a plain-text table with a header and a rule, columns padded to their widest cell. Numbers are
 * right-aligned, text left-aligned.
 */
export function formatTable(
  headers: readonly string[],
  rows: ReadonlyArray<ReadonlyArray<string | number>>,
): string {
  const cells = [headers, ...rows].map((row) => row.map((cell) => String(cell)))
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => row[column]?.length ?? 0)))
  const numeric = headers.map(
    (_, column) => rows.length > 0 && rows.every((row) => typeof row[column] === 'number'),
  )
  const line = (row: readonly string[]) =>
    row
      .map((cell, column) =>
        numeric[column] ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!),
      )
      .join('  ')
      .trimEnd()
  const [header, ...body] = cells
  return [line(header!), widths.map((width) => '-'.repeat(width)).join('  '), ...body.map(line)].join('\n')
}

/** The first and last `edge` ids of a list, for printing long id lists: `[1, 2, 3, …, 8, 9] (42 ids)`. */
export function abbreviateIds(ids: readonly number[], edge = 5): string {
  if (ids.length <= edge * 2) return `[${ids.join(', ')}] (${ids.length} ids)`
  return `[${ids.slice(0, edge).join(', ')}, …, ${ids.slice(-edge).join(', ')}] (${ids.length} ids)`
}
