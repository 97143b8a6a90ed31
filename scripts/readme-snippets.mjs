#!/usr/bin/env node
// `pnpm check:readme`: every TypeScript snippet (```ts / ```typescript) of every README.md, ARCHITECTURE.md and
// docs/*.md must type-check as its own module against the workspace packages, and every package it imports must
// be named by an install command of the same file. The snippets that run (all but `<!-- snippet: no-run: why -->`)
// are run against mock-vllm by examples/test/readme-snippets.test.ts.
//   node scripts/readme-snippets.mjs          check, with one line per problem (README path:line)
//   node scripts/readme-snippets.mjs --list   list the snippets and whether they run
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { extractSnippets, listMarkdownFiles } from './readme-snippets/extract.mjs'
import { findUninstalledImports } from './readme-snippets/imports.mjs'
import { formatErrors, typecheckSnippets } from './readme-snippets/typecheck.mjs'

/** Every problem of the repository's snippets, one sentence each; empty when all is well. */
export async function checkReadmeSnippets(rootDir) {
  const problems = []
  const snippets = []
  for (const file of listMarkdownFiles(rootDir)) {
    const markdown = readFileSync(join(rootDir, file), 'utf8')
    let found
    try {
      found = extractSnippets(markdown, file)
    } catch (error) {
      problems.push(error.message)
      continue
    }
    snippets.push(...found)
    problems.push(...findUninstalledImports(markdown, found))
  }
  problems.push(...formatErrors(await typecheckSnippets(rootDir, snippets)))
  return { snippets, problems }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('..', import.meta.url))
  if (process.argv.includes('--list')) {
    for (const file of listMarkdownFiles(root)) {
      for (const snippet of extractSnippets(readFileSync(join(root, file), 'utf8'), file)) {
        console.log(
          `${snippet.file}:${snippet.line} ${snippet.run ? 'runs' : `no-run: ${snippet.noRunReason}`}`,
        )
      }
    }
  } else {
    const { snippets, problems } = await checkReadmeSnippets(root)
    if (problems.length > 0) {
      console.error(`README snippets: ${problems.length} problem(s)\n  ${problems.join('\n  ')}`)
      process.exit(1)
    }
    const files = new Set(snippets.map((snippet) => snippet.file)).size
    const running = snippets.filter((snippet) => snippet.run).length
    console.log(
      `README snippets: ${snippets.length} in ${files} files type-check and import only what they install; ${running} run against mock-vllm in the tests`,
    )
  }
}
