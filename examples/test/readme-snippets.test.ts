// Every README snippet that can run (all but `<!-- snippet: no-run: … -->`) runs as written, in its own
// process and a fresh working directory, against mock-vllm (and the Agent Lightning gateway stand-in when it
// reads `AGL_*`); only the server address `http://localhost:8000` is pointed at the mock. Type errors are
// `pnpm check:readme`'s job (tsx does not type-check).
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { findSnippets, type Snippet, snippetName } from '../../scripts/readme-snippets/extract.mjs'
import { pointedAtMock, startSnippetEnvironment } from './snippet-environment'

const root = fileURLToPath(new URL('../..', import.meta.url))
// inside examples/, so the snippets' imports resolve to its dependencies
const moduleDir = join(root, 'examples', '.readme-snippets', 'run')
const tsxCli = createRequire(import.meta.url).resolve('tsx/cli')
const snippets = findSnippets(root)
const runnable = snippets.filter((snippet) => snippet.run)

interface SnippetRun {
  exitCode: number
  stdout: string
  stderr: string
}

/** Runs `code` as a module of its own (named after `snippet`) in a fresh working directory. */
function runModule(snippet: Snippet, code: string, variables: Record<string, string>): Promise<SnippetRun> {
  mkdirSync(moduleDir, { recursive: true })
  const file = join(moduleDir, `${snippetName(snippet)}.ts`)
  writeFileSync(file, `${code}\nexport {}\n`)
  const workDir = mkdtempSync(join(tmpdir(), 'readme-snippet-'))
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('VLLM_') && !name.startsWith('AGL_')),
  )
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [tsxCli, '--conditions=@vllm-tito/source', file],
      {
        cwd: workDir,
        env: { ...inherited, ...variables, NO_COLOR: '1' },
        timeout: 90_000,
        maxBuffer: 16 << 20,
      },
      (error, stdout, stderr) => {
        rmSync(workDir, { recursive: true, force: true })
        const exitCode = error ? (typeof error.code === 'number' ? error.code : 1) : 0
        resolve({ exitCode, stdout, stderr })
      },
    )
  })
}

describe('README snippets', () => {
  it('are found in the READMEs of the root, the packages and docs/, and most of them run', () => {
    const files = new Set(snippets.map((snippet) => snippet.file))
    for (const file of ['README.md', 'packages/client/README.md', 'packages/strands/README.md']) {
      expect(files).toContain(file)
    }
    expect(runnable.length).toBeGreaterThanOrEqual(snippets.length - 2)
  })

  for (const snippet of runnable) {
    it(`${snippet.file}:${snippet.line} runs as written against mock-vllm`, async () => {
      const environment = await startSnippetEnvironment(snippet.code)
      try {
        const run = await runModule(
          snippet,
          pointedAtMock(snippet.code, environment.vllm),
          environment.variables,
        )
        expect(run.exitCode, `exit code; stderr:\n${run.stderr}\nstdout:\n${run.stdout}`).toBe(0)
        if (environment.gateway && snippet.code.includes('emitReward')) {
          const events = environment.gateway.events(environment.rolloutId!)
          expect(events.filter((event) => event.event_type === 'reward')).toHaveLength(1)
        }
      } finally {
        await environment.close()
      }
    })
  }
})
