// What `pnpm bench` concludes from a run: its mode (from the flags), the lines it prints after the table, and its
// exit code. Pure, so the decision is tested without running a benchmark (bench/verdict.test.ts).
import { type BenchFigure, formatNumber } from './figures'

/**
 * - `full`: the default. A missed performance target, a failed check or a benchmark that could not run fails it.
 * - `quick` (`--quick`): small workloads, the CI smoke run. Only correctness gates (every benchmark ran, every
 *   check passed): on a shared 2-core machine a small workload's timing is noise, and a landing that fails on
 *   noise lands nothing. Missed targets are listed, marked as not gating.
 * - `report` (`--report`, also with `--quick`): prints everything, gates nothing but a benchmark that could not
 *   run (there is no figure to print then).
 */
export type BenchMode = 'full' | 'quick' | 'report'

const FLAGS = ['--quick', '--report'] as const

/** The run's mode from its `--` flags. Throws on a flag it does not know (a typo would silently gate). */
export function benchMode(flags: readonly string[]): BenchMode {
  const unknown = flags.filter((flag) => !(FLAGS as readonly string[]).includes(flag))
  if (unknown.length > 0) {
    throw new Error(
      `pnpm bench: unknown flag ${unknown.join(', ')} (known: ${FLAGS.join(', ')}; other arguments filter files)`,
    )
  }
  if (flags.includes('--report')) return 'report'
  return flags.includes('--quick') ? 'quick' : 'full'
}

export interface BenchVerdict {
  exitCode: 0 | 1
  /** Printed after the table, one line each. */
  lines: string[]
}

/** One line of a missed figure: which benchmark, what, the value and the target it missed. */
function describe(figure: BenchFigure): string {
  return `  - ${figure.benchmark} / ${figure.metric}: ${formatNumber(figure.value)} ${figure.unit}, target ${figure.target ?? '(none)'}`
}

/** The verdict of a run: `figures` it printed, `failures` (benchmarks that threw, one line each), its mode. */
export function benchVerdict(
  figures: readonly BenchFigure[],
  failures: readonly string[],
  mode: BenchMode,
): BenchVerdict {
  const checks = figures.filter((figure) => figure.kind === 'check' && figure.meetsTarget !== undefined)
  const targets = figures.filter((figure) => figure.kind !== 'check' && figure.meetsTarget !== undefined)
  const failedChecks = checks.filter((figure) => figure.meetsTarget === false)
  const missedTargets = targets.filter((figure) => figure.meetsTarget === false)
  const lines: string[] = []
  if (failures.length > 0) {
    lines.push(
      `benchmarks that failed to run (${failures.length}):`,
      ...failures.map((line) => `  - ${line}`),
    )
  }
  if (failedChecks.length > 0) {
    lines.push(`checks failed (${failedChecks.length} of ${checks.length}):`, ...failedChecks.map(describe))
  }
  if (missedTargets.length > 0) {
    const note =
      mode === 'full' ? '' : mode === 'quick' ? ' — not gating in a quick run' : ' — not gating with --report'
    lines.push(
      `targets missed (${missedTargets.length} of ${targets.length})${note}:`,
      ...missedTargets.map(describe),
    )
  }

  const gatingFailures =
    failures.length +
    (mode === 'report' ? 0 : failedChecks.length) +
    (mode === 'full' ? missedTargets.length : 0)
  const tally = `${checks.length - failedChecks.length}/${checks.length} checks passed, ${targets.length - missedTargets.length}/${targets.length} targets met`
  const gates = {
    full: 'every target, every check and every benchmark gate this run',
    quick:
      'quick run: targets are not gating (small workloads on a shared machine); every benchmark must run and every check pass',
    report: '--report: nothing gates but a benchmark that could not run',
  }[mode]
  lines.push(gates, `${gatingFailures > 0 ? 'FAILED' : 'passed'}: ${tally}`)
  return { exitCode: gatingFailures > 0 ? 1 : 0, lines }
}
