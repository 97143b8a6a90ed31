import fc from 'fast-check'

// every property test in the repository runs on one fixed seed, so a failure reproduces on the next run and
// on any machine; `FC_SEED=<integer>` picks another seed, `FC_SEED=random` a fresh one per run

/** The seed property tests run on when `FC_SEED` is not set. */
export const DEFAULT_PROPERTY_SEED = 20261202

/** The seed to run property tests on, read from `FC_SEED` (an integer, or `random`). */
export function propertySeedFrom(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return DEFAULT_PROPERTY_SEED
  if (value.trim() === 'random') return (Date.now() ^ Math.floor(Math.random() * 0x7fff_ffff)) | 0
  const seed = Number(value)
  if (!Number.isSafeInteger(seed)) {
    throw new Error(`FC_SEED must be an integer or "random", not ${JSON.stringify(value)}`)
  }
  return seed
}

/**
 * fast-check's own report (counterexample, seed and path) plus the line that says how to rerun it: the
 * failure message then always names the seed the run used, even when it was drawn with `FC_SEED=random`.
 */
export function reportWithSeed<Ts = unknown>(seed: number): (details: fc.RunDetails<Ts>) => void {
  return (details) => {
    if (!details.failed) return
    const report = fc.defaultReportMessage(details) ?? 'Property failed'
    throw new Error(`${report}\n\nProperty tests ran with seed ${seed}: rerun with FC_SEED=${seed}`, {
      cause: details.errorInstance,
    })
  }
}

const seed = propertySeedFrom(process.env.FC_SEED)
fc.configureGlobal({ seed, reporter: reportWithSeed(seed) })
