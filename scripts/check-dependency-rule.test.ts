import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
// @ts-expect-error plain ESM script without type declarations
import { findDependencyRuleViolations } from './check-dependency-rule.mjs'

const repoRoot = join(import.meta.dirname, '..')
const copies: string[] = []

function copyOfPackages(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dep-rule-'))
  copies.push(dir)
  for (const name of ['recorder', 'validation', 'trajectory', 'spec']) {
    cpSync(join(repoRoot, 'packages', name), join(dir, 'packages', name), {
      recursive: true,
      filter: (source) => !source.includes('node_modules'),
    })
  }
  return dir
}

afterEach(() => {
  for (const dir of copies.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe('dependency rule check', () => {
  it('holds for the repository as it is', () => {
    expect(findDependencyRuleViolations(repoRoot)).toEqual([])
  })

  it('fails when trajectory source imports the client', () => {
    const dir = copyOfPackages()
    writeFileSync(
      join(dir, 'packages/trajectory/src/sneaky.ts'),
      "import { VLLMClient } from '@vllm-tito/client'\n",
    )
    expect(findDependencyRuleViolations(dir)).toEqual([
      'packages/trajectory/src/sneaky.ts: imports @vllm-tito/client; only @vllm-tito/spec is allowed',
    ])
  })

  it('fails on a dynamic import of a sibling and on a runtime dependency', () => {
    const dir = copyOfPackages()
    writeFileSync(
      join(dir, 'packages/recorder/src/lazy.ts'),
      "export const load = () => import('@vllm-tito/validation')\n",
    )
    const manifestPath = join(dir, 'packages/validation/package.json')
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'))
    manifest.dependencies['@vllm-tito/trajectory'] = 'workspace:^'
    writeFileSync(manifestPath, JSON.stringify(manifest))
    expect(findDependencyRuleViolations(dir).sort()).toEqual([
      'packages/recorder/src/lazy.ts: imports @vllm-tito/validation; only @vllm-tito/spec is allowed',
      'packages/validation/package.json: dependencies names @vllm-tito/trajectory; only @vllm-tito/spec is allowed',
    ])
  })

  it('fails when a package the runner wires imports the runner', () => {
    const dir = copyOfPackages()
    cpSync(
      join(repoRoot, 'packages', 'rollouts', 'package.json'),
      join(dir, 'packages/rollouts/package.json'),
    )
    cpSync(join(repoRoot, 'packages', 'strands'), join(dir, 'packages', 'strands'), {
      recursive: true,
      filter: (source) => !source.includes('node_modules') && !source.includes('dist'),
    })
    writeFileSync(
      join(dir, 'packages/strands/src/cycle.ts'),
      "export { runRollouts } from '@vllm-tito/rollouts'\n",
    )
    expect(findDependencyRuleViolations(dir)).toEqual([
      'packages/strands/src/cycle.ts: imports @vllm-tito/rollouts, which depends on this package',
    ])
  })

  it('lets tests import anything', () => {
    const dir = copyOfPackages()
    writeFileSync(join(dir, 'packages/trajectory/src/golden.test.ts'), "import '@vllm-tito/mock-vllm'\n")
    expect(findDependencyRuleViolations(dir)).toEqual([])
  })
})
