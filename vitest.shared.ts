import { fileURLToPath } from 'node:url'
import type { UserWorkspaceConfig } from 'vitest/config'

/** the export condition that points every @vllm-tito package at its TypeScript sources, so tests need no build */
export const sourceCondition = '@vllm-tito/source'

/** one test set-up for every package: sources through the custom condition, node environment, type tests on */
export function sharedTestConfig(name: string): UserWorkspaceConfig {
  return {
    resolve: { conditions: [sourceCondition] },
    ssr: { resolve: { conditions: [sourceCondition] } },
    test: {
      name,
      environment: 'node',
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      // fixes the seed of every property test (`FC_SEED` overrides it) and names it in each failure
      setupFiles: [fileURLToPath(new URL('./vitest.setup.ts', import.meta.url))],
      typecheck: { enabled: true, include: ['src/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
      testTimeout: 30_000,
      hookTimeout: 30_000,
    },
  }
}
