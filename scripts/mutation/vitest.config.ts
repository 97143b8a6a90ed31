import { resolve } from 'node:path'
import { defineConfig } from 'vitest/config'
import { sharedTestConfig } from '../../vitest.shared.ts'
// @ts-expect-error plain ESM module without type declarations
import { MUTATION_GROUPS } from './groups.mjs'

// the vitest set-up Stryker runs mutants with: the group's test projects as `pnpm test` configures them, minus the
// type tests (tsc over *.test-d.ts says nothing about a mutant and Stryker marks its files @ts-nocheck)
const repository = resolve(import.meta.dirname, '../..')
const group = MUTATION_GROUPS[process.env.MUTATION_GROUP ?? '']
if (group === undefined)
  throw new Error('MUTATION_GROUP names no mutation group (see scripts/mutation/groups.mjs)')

export default defineConfig({
  test: {
    projects: (group.testPackages as string[]).map((name) => {
      const shared = sharedTestConfig(name)
      return {
        ...shared,
        extends: false,
        root: resolve(repository, 'packages', name),
        test: { ...shared.test, typecheck: { enabled: false } },
      }
    }),
  },
})
