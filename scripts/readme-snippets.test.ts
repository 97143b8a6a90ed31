import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { extractSnippets } from './readme-snippets/extract.mjs'
import { findUninstalledImports, importedPackages, installedPackages } from './readme-snippets/imports.mjs'
import { formatErrors, snippetModuleDirectory, typecheckSnippets } from './readme-snippets/typecheck.mjs'
import { checkReadmeSnippets } from './readme-snippets.mjs'

const repoRoot = join(import.meta.dirname, '..')
const fixtureDir = snippetModuleDirectory(repoRoot, `checker-test-${process.pid}`)
afterAll(() => rmSync(fixtureDir, { recursive: true, force: true }))

const FIXTURE = `# A package

\`\`\`sh
npm install @vllm-tito/client @vllm-tito/spec # the client
\`\`\`

\`\`\`ts
import { VLLMClient } from '@vllm-tito/client'
const client = new VLLMClient({ baseUrl: 'http://localhost:8000' })
console.log(await client.health())
\`\`\`

<!-- snippet: no-run: needs a trainer -->

\`\`\`typescript
const total: number = calculator('2 * 3')
\`\`\`

1. In a list:

   \`\`\`ts
   import { VLLMClient } from '@vllm-tito/client'
   import { z } from 'zod'
   new VLLMClient({ baseUrl: 8000 })
   \`\`\`

\`\`\`js
not checked: only ts and typescript blocks are
\`\`\`
`

describe('extractSnippets', () => {
  it('finds ts and typescript blocks, indented ones dedented, with the line of their first code line', () => {
    const snippets = extractSnippets(FIXTURE, 'FIXTURE.md')
    expect(
      snippets.map(({ line, indent, run, noRunReason }) => ({ line, indent, run, noRunReason })),
    ).toEqual([
      { line: 8, indent: 0, run: true, noRunReason: undefined },
      { line: 16, indent: 0, run: false, noRunReason: 'needs a trainer' },
      { line: 22, indent: 3, run: true, noRunReason: undefined },
    ])
    expect(snippets[2]!.code).toBe(
      "import { VLLMClient } from '@vllm-tito/client'\nimport { z } from 'zod'\nnew VLLMClient({ baseUrl: 8000 })",
    )
  })

  it.each([
    ['<!-- snippet: skip: why -->\n```ts\nx\n```\n', 'FIXTURE.md:1: unknown snippet marker skip'],
    [
      '<!-- snippet: no-run -->\n```ts\nx\n```\n',
      'FIXTURE.md:1: `snippet: no-run` needs a reason after a colon',
    ],
    [
      '<!-- snippet: no-run: why -->\ntext\n```ts\nx\n```\n',
      'FIXTURE.md:1: a snippet marker must come right before a ts block',
    ],
    [
      '<!-- snippet: no-run: why -->\n```sh\nx\n```\n',
      'FIXTURE.md:1: a snippet marker must come right before a ts block',
    ],
    ['text\n```ts\nx\n', 'FIXTURE.md:2: code block is never closed'],
  ])('refuses %j', (markdown, message) => {
    expect(() => extractSnippets(markdown, 'FIXTURE.md')).toThrow(message)
  })
})

describe('the install check', () => {
  it('reads the packages of npm, pnpm and yarn commands, in code blocks and inline, without versions or flags', () => {
    const markdown = '```sh\npnpm add -D @a/b@^1.2 c # comment d\n```\nor `npm install e@2 f`; `yarn add g`'
    expect([...installedPackages(markdown)]).toEqual(['@a/b', 'c', 'e', 'f', 'g'])
  })

  it('lists the packages a snippet imports, subpaths reduced to the package, builtins and relative paths left out', () => {
    const code =
      "import { a } from '@a/b/sub'\nimport type { T } from 'c'\nimport 'd/register'\nimport { readFile } from 'node:fs/promises'\nimport path from 'path'\nimport { x } from './x.js'\nconst e = await import('e')"
    expect(importedPackages(code)).toEqual(['@a/b', 'c', 'd', 'e'])
  })

  it('names each import no install command of the file names, at its snippet', () => {
    expect(findUninstalledImports(FIXTURE, extractSnippets(FIXTURE, 'FIXTURE.md'))).toEqual([
      'FIXTURE.md:22: the snippet imports zod, which no install command in FIXTURE.md names (e.g. `npm install zod`)',
    ])
  })
})

describe('typecheckSnippets', () => {
  it('reports the errors of broken snippets at their markdown line and column, and none for a good one', async () => {
    const errors = await typecheckSnippets(repoRoot, extractSnippets(FIXTURE, 'FIXTURE.md'), fixtureDir)
    expect(formatErrors(errors)).toEqual([
      "FIXTURE.md:16:23 TS2304 Cannot find name 'calculator'.",
      "FIXTURE.md:24:21 TS2322 Type 'number' is not assignable to type 'string'.",
    ])
  }, 120_000)

  it('passes for every snippet of the repository as it is', async () => {
    const { snippets, problems } = await checkReadmeSnippets(repoRoot)
    expect(problems).toEqual([])
    expect(snippets.length).toBeGreaterThan(20)
  }, 120_000)
})
