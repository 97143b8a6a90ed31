// @ts-check
// Mutation testing of the core logic with StrykerJS, one group per run: `pnpm test:mutation <group>` (see
// docs/mutation-testing.md). Reports and Stryker's sandboxes go to gitignored folders.
import { MUTATION_GROUPS } from './scripts/mutation/groups.mjs'

const name = process.env.MUTATION_GROUP ?? ''
const group = MUTATION_GROUPS[name]
if (group === undefined) {
  throw new Error(
    `MUTATION_GROUP must name a mutation group (${Object.keys(MUTATION_GROUPS).join(', ')}): run \`pnpm test:mutation <group>\``,
  )
}

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'scripts/mutation/vitest.config.ts', related: true },
  mutate: group.mutate,
  coverageAnalysis: 'perTest',
  // two cores shared with other work: one test runner by default
  concurrency: Number(process.env.MUTATION_CONCURRENCY ?? 1),
  // the sandbox gets its own node_modules links, so workspace packages resolve to its mutated sources
  symlinkNodeModules: false,
  buildCommand: 'node scripts/mutation/link-node-modules.mjs',
  tempDirName: '.stryker-tmp',
  ignorePatterns: [
    '**/dist',
    '**/.turbo',
    'reports',
    'bench/out',
    'examples/out',
    '.tools',
    'coverage',
    '**/__pycache__',
    '.pytest_cache',
  ],
  reporters: ['clear-text', 'progress-append-only', 'json', 'html'],
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  htmlReporter: { fileName: `reports/mutation/${name}.html` },
  incrementalFile: `reports/mutation/${name}.incremental.json`,
  clearTextReporter: { allowColor: false, logTests: false },
  thresholds: { high: 90, low: 90, break: null },
}
