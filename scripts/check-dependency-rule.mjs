#!/usr/bin/env node
// The dependency rule (ARCHITECTURE.md): recorder, validation and trajectory speak to the rest of vllm-tito only
// through @vllm-tito/spec. Their non-test sources and their runtime/peer dependencies may name no other of
// our packages. Tests may use anything (mock-vllm, the strands bundle) through devDependencies.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

export const RESTRICTED_PACKAGES = [
  'recorder',
  'validation',
  'trajectory',
  'agent-lightning',
  'mock-agent-lightning',
]
const ALLOWED = new Set(['@vllm-tito/spec'])
// the rollout runner wires strands, client, trajectory and mock-vllm together: no other package may depend on it
const TOP_LAYER = '@vllm-tito/rollouts'
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)['"](@vllm-tito\/[^'"/]+)/g
const isTestFile = (name) => /\.test(-d)?\.ts$|(^|\/)test-support\.ts$|__fixtures__/.test(name)

function* sourceFiles(dir) {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry)
    if (statSync(path).isDirectory()) yield* sourceFiles(path)
    else if (/\.(m?ts|m?js)$/.test(entry) && !isTestFile(path)) yield path
  }
}

/** returns one line per violation, empty when the rule holds */
export function findDependencyRuleViolations(rootDir) {
  const violations = []
  for (const name of RESTRICTED_PACKAGES) {
    const packageDir = join(rootDir, 'packages', name)
    let manifest
    try {
      manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'))
    } catch {
      continue // the package does not exist (yet)
    }
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
      for (const dependency of Object.keys(manifest[field] ?? {})) {
        if (dependency.startsWith('@vllm-tito/') && !ALLOWED.has(dependency)) {
          violations.push(
            `packages/${name}/package.json: ${field} names ${dependency}; only @vllm-tito/spec is allowed`,
          )
        }
      }
    }
    for (const file of sourceFiles(join(packageDir, 'src'))) {
      const text = readFileSync(file, 'utf8')
      for (const match of text.matchAll(SPECIFIER)) {
        if (!ALLOWED.has(match[1])) {
          violations.push(`${relative(rootDir, file)}: imports ${match[1]}; only @vllm-tito/spec is allowed`)
        }
      }
    }
  }
  violations.push(...findTopLayerViolations(rootDir))
  return violations
}

/** Packages (other than the runner itself) that name the runner in their manifest or sources. */
function findTopLayerViolations(rootDir) {
  const violations = []
  for (const name of readdirSync(join(rootDir, 'packages'))) {
    const packageDir = join(rootDir, 'packages', name)
    let manifest
    try {
      manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'))
    } catch {
      continue
    }
    if (manifest.name === TOP_LAYER) continue
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
      if (TOP_LAYER in (manifest[field] ?? {})) {
        violations.push(`packages/${name}/package.json: ${field} names ${TOP_LAYER}, which depends on it`)
      }
    }
    if (!existsSync(join(packageDir, 'src'))) continue
    for (const file of sourceFiles(join(packageDir, 'src'))) {
      for (const match of readFileSync(file, 'utf8').matchAll(SPECIFIER)) {
        if (match[1] === TOP_LAYER) {
          violations.push(`${relative(rootDir, file)}: imports ${TOP_LAYER}, which depends on this package`)
        }
      }
    }
  }
  return violations
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('..', import.meta.url))
  const violations = findDependencyRuleViolations(root)
  if (violations.length > 0) {
    console.error(`dependency rule violated (see ARCHITECTURE.md):\n  ${violations.join('\n  ')}`)
    process.exit(1)
  }
  console.log(
    `dependency rule holds: ${RESTRICTED_PACKAGES.join(', ')} import only @vllm-tito/spec; no package depends on ${TOP_LAYER}`,
  )
}
