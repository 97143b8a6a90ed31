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
      typecheck: { enabled: true, include: ['src/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
      testTimeout: 30_000,
      hookTimeout: 30_000,
    },
  }
}
