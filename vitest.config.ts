import { defineConfig } from 'vitest/config'

// one run for the whole repository: every package is a project, so `pnpm test` counts every test once
export default defineConfig({
  test: {
    projects: ['packages/*', 'examples', 'scripts'],
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.vitest-results.json' }]] : ['default'],
  },
})
