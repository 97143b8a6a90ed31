import { describe, expect, it } from 'vitest'
import type { BenchFigure } from './figures'
import { benchMode, benchVerdict } from './verdict'

const met: BenchFigure = {
  benchmark: 'client: 32k-token stream',
  metric: 'VLLMClient final() / floor',
  value: 1.1,
  unit: 'x',
  target: '<= 1.25x',
  meetsTarget: true,
}
const missed: BenchFigure = { ...met, metric: 'VLLMClient events / floor', value: 1.3, meetsTarget: false }
const checkOk: BenchFigure = {
  benchmark: 'scale: 64 rollouts x 256 tokens',
  metric: 'token ids lost (sampled - received)',
  value: 0,
  unit: 'ids',
  target: '= 0',
  meetsTarget: true,
  kind: 'check',
}
const checkFailed: BenchFigure = { ...checkOk, value: 3, meetsTarget: false }
const plain: BenchFigure = { benchmark: 'validation', metric: 'ops', value: 5, unit: 'ops/s' }

describe('benchMode', () => {
  it('is full without flags, quick with --quick, report with --report (also with --quick)', () => {
    expect(benchMode([])).toBe('full')
    expect(benchMode(['--quick'])).toBe('quick')
    expect(benchMode(['--report'])).toBe('report')
    expect(benchMode(['--quick', '--report'])).toBe('report')
  })

  it('throws on an unknown flag, naming it and the known ones', () => {
    expect(() => benchMode(['--quik'])).toThrow(/unknown flag --quik \(known: --quick, --report/)
  })
})

describe('benchVerdict', () => {
  it('full run: exit 0 when every target and check is met, with the tally', () => {
    const verdict = benchVerdict([met, checkOk, plain], [], 'full')
    expect(verdict.exitCode).toBe(0)
    expect(verdict.lines.at(-1)).toBe('passed: 1/1 checks passed, 1/1 targets met')
  })

  it('full run: a missed target exits 1 and is listed with its value and target', () => {
    const verdict = benchVerdict([met, missed, checkOk], [], 'full')
    expect(verdict.exitCode).toBe(1)
    expect(verdict.lines).toContain('targets missed (1 of 2):')
    expect(verdict.lines).toContain(
      '  - client: 32k-token stream / VLLMClient events / floor: 1.30 x, target <= 1.25x',
    )
    expect(verdict.lines.at(-1)).toBe('FAILED: 1/1 checks passed, 1/2 targets met')
  })

  it('quick run: a missed target does not gate and is marked so; the mode is said', () => {
    const verdict = benchVerdict([met, missed, checkOk], [], 'quick')
    expect(verdict.exitCode).toBe(0)
    expect(verdict.lines).toContain('targets missed (1 of 2) — not gating in a quick run:')
    expect(verdict.lines.join('\n')).toMatch(/quick run: targets are not gating/)
  })

  it('quick run: a failed check exits 1 and is listed', () => {
    const verdict = benchVerdict([met, checkFailed], [], 'quick')
    expect(verdict.exitCode).toBe(1)
    expect(verdict.lines).toContain('checks failed (1 of 1):')
    expect(verdict.lines).toContain(
      '  - scale: 64 rollouts x 256 tokens / token ids lost (sampled - received): 3 ids, target = 0',
    )
  })

  it('quick run: a benchmark that could not run exits 1 and is named', () => {
    const verdict = benchVerdict([met], ['bench/scale.bench.ts: exited with code 1 after 2.0 s'], 'quick')
    expect(verdict.exitCode).toBe(1)
    expect(verdict.lines.slice(0, 2)).toEqual([
      'benchmarks that failed to run (1):',
      '  - bench/scale.bench.ts: exited with code 1 after 2.0 s',
    ])
  })

  it('report: missed targets and failed checks are printed but exit 0', () => {
    const verdict = benchVerdict([missed, checkFailed], [], 'report')
    expect(verdict.exitCode).toBe(0)
    expect(verdict.lines).toContain('checks failed (1 of 1):')
    expect(verdict.lines).toContain('targets missed (1 of 1) — not gating with --report:')
    expect(verdict.lines.at(-1)).toBe('passed: 0/1 checks passed, 0/1 targets met')
  })

  it('report: a benchmark that could not run still exits 1', () => {
    expect(benchVerdict([met], ['x.bench.ts: exited with code 1 after 1.0 s'], 'report').exitCode).toBe(1)
  })

  it('a figure without a target is neither a target nor a check', () => {
    const verdict = benchVerdict([plain], [], 'full')
    expect(verdict.exitCode).toBe(0)
    expect(verdict.lines.at(-1)).toBe('passed: 0/0 checks passed, 0/0 targets met')
  })
})
