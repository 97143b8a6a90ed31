import { existsSync } from 'node:fs'
import { defineConfig } from 'vitest/config'

// one run for the whole repository: every package is a project, so `pnpm test` counts every test once
const projects = ['packages/*', 'scripts', 'examples', 'bench'].filter(
  (path) => path.includes('*') || existsSync(path),
)

export default defineConfig({
  test: {
    projects,
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.vitest-results.json' }]] : ['default'],
  },
})
