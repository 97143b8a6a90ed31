// Per-file mutation scores from a Stryker JSON report (mutation-testing-report-schema), as Stryker counts them:
// detected (killed + timeout) over valid mutants (detected + survived + no coverage). Mutants disabled with a
// `// Stryker disable` comment (status Ignored: the equivalent ones) and those that did not compile are not counted.

/** The minimum score every mutated file must reach. */
export const TARGET_SCORE = 90

/**
 * @param {{ files: Record<string, { mutants: Array<{ status: string }> }> }} report
 * @returns {Array<{ file: string, killed: number, survived: number, noCoverage: number, timeout: number, ignored: number, score: number | null }>}
 */
export function scoreRows(report) {
  return Object.entries(report.files)
    .map(([file, { mutants }]) => {
      const count = (status) => mutants.filter((mutant) => mutant.status === status).length
      const killed = count('Killed')
      const timeout = count('Timeout')
      const survived = count('Survived')
      const noCoverage = count('NoCoverage')
      const valid = killed + timeout + survived + noCoverage
      const score = valid === 0 ? null : (100 * (killed + timeout)) / valid
      return { file, killed, survived, noCoverage, timeout, ignored: count('Ignored'), score }
    })
    .sort((left, right) => left.file.localeCompare(right.file))
}

/** A markdown table of `rows`, one line per file, scores to one decimal. */
export function markdownTable(rows) {
  const lines = [
    '| file | killed | survived | no coverage | timeout | equivalent (ignored) | score |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ]
  for (const row of rows) {
    const score = row.score === null ? 'n/a' : `${row.score.toFixed(1)} %`
    lines.push(
      `| ${row.file} | ${row.killed} | ${row.survived} | ${row.noCoverage} | ${row.timeout} | ${row.ignored} | ${score} |`,
    )
  }
  return lines.join('\n')
}

/** The rows whose score is below {@link TARGET_SCORE}. */
export function belowTarget(rows) {
  return rows.filter((row) => row.score !== null && row.score < TARGET_SCORE)
}
