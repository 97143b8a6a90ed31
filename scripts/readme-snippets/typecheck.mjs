// Type-checks snippets as a user's project would: each one its own ES module (top-level await allowed), under
// `strict`, importing the workspace packages by name (through their source condition, so no build is needed). The modules are written inside
// examples/ (gitignored), whose dependencies are the ones a README tells its reader to install.
import { execFile } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, relative, resolve } from 'node:path'
import { snippetName } from './extract.mjs'

/** Where snippet modules are written: inside examples/, so its node_modules resolve their imports. */
export function snippetModuleDirectory(rootDir, name = 'typecheck') {
  return join(resolve(rootDir), 'examples', '.readme-snippets', name)
}

/** What a user's tsconfig typically says; the repo's own stricter flags (noUncheckedIndexedAccess) stay out. */
const COMPILER_OPTIONS = {
  target: 'ES2023',
  lib: ['ES2023'],
  module: 'ESNext',
  moduleResolution: 'Bundler',
  // the sources of the workspace packages, as the repo's own type checks read them (no build needed)
  customConditions: ['@vllm-tito/source'],
  types: ['node'],
  strict: true,
  skipLibCheck: true,
  noEmit: true,
  isolatedModules: true,
  verbatimModuleSyntax: true,
}

/**
 * Writes one module per snippet to `moduleDir` (replacing what was there) and a tsconfig for them.
 *
 * @returns a map from each module's file name to its snippet.
 */
export function writeSnippetModules(snippets, moduleDir) {
  rmSync(moduleDir, { recursive: true, force: true })
  mkdirSync(moduleDir, { recursive: true })
  const modules = new Map()
  for (const snippet of snippets) {
    const fileName = `${snippetName(snippet)}.ts`
    // `export {}` makes every snippet a module of its own: no clashes between snippets, top-level await works
    writeFileSync(join(moduleDir, fileName), `${snippet.code}\nexport {}\n`)
    modules.set(fileName, snippet)
  }
  const tsconfig = { compilerOptions: COMPILER_OPTIONS, include: ['*.ts'] }
  writeFileSync(join(moduleDir, 'tsconfig.json'), `${JSON.stringify(tsconfig, null, 2)}\n`)
  return modules
}

const DIAGNOSTIC = /^(.+?)\((\d+),(\d+)\): error (TS\d+): (.*)$/

/**
 * Type-checks the snippets with the repo's TypeScript.
 *
 * @returns one entry per error, `{ file, line, column, code, message }`, located in the markdown file;
 *   errors outside the snippet modules (none expected) keep their own location.
 */
export async function typecheckSnippets(
  rootDir,
  snippets,
  moduleDirectory = snippetModuleDirectory(rootDir),
) {
  const moduleDir = resolve(moduleDirectory)
  const modules = writeSnippetModules(snippets, moduleDir)
  const tsc = createRequire(join(resolve(rootDir), 'package.json')).resolve('typescript/bin/tsc')
  const { exitCode, output } = await new Promise((resolve) => {
    execFile(
      process.execPath,
      [tsc, '-p', join(moduleDir, 'tsconfig.json'), '--pretty', 'false'],
      { cwd: moduleDir, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) =>
        resolve({ exitCode: error ? (error.code ?? 1) : 0, output: `${stdout}${stderr}` }),
    )
  })
  const errors = []
  let last
  for (const text of output.split('\n')) {
    const match = DIAGNOSTIC.exec(text)
    if (match) {
      const [, path, line, column, code, message] = match
      const snippet = modules.get(relative(moduleDir, join(moduleDir, path)))
      last = snippet
        ? {
            file: snippet.file,
            line: snippet.line + Number(line) - 1,
            column: snippet.indent + Number(column),
            code,
            message,
          }
        : { file: path, line: Number(line), column: Number(column), code, message }
      errors.push(last)
    } else if (last !== undefined && text.startsWith('  ')) {
      // continuation lines of a multi-line message are indented
      last.message += `\n${text}`
    } else if (text.trim() !== '') {
      last = { file: '(tsc)', line: 0, column: 0, code: '', message: text }
      errors.push(last)
    }
  }
  // a failing tsc that printed nothing readable must not pass as "no errors"
  if (exitCode !== 0 && errors.length === 0) {
    errors.push({ file: '(tsc)', line: 0, column: 0, code: '', message: `tsc exited with ${exitCode}` })
  }
  return errors
}

/** One line per error: `packages/client/README.md:25:7 TS2304 Cannot find name 'calculator'.` */
export function formatErrors(errors) {
  return errors.map((error) => `${error.file}:${error.line}:${error.column} ${error.code} ${error.message}`)
}
