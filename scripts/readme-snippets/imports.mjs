// Every package a snippet imports must be named by an install command of the same markdown file (`npm install`,
// `pnpm add`, `yarn add`, in a code block or in inline code), so that a reader who runs the commands and copies
// the snippet has everything it needs. Node's own modules need nothing.
import { builtinModules } from 'node:module'

const INSTALL_COMMAND =
  /\b(?:npm\s+(?:install|i|add)|pnpm\s+(?:add|install)|yarn\s+add|bun\s+add)((?:[ \t]+[^\s`#;&|]+)+)/g
const IMPORT_SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm
const BUILTINS = new Set(builtinModules)

/** The packages the install commands of one markdown text name, without version ranges or flags. */
export function installedPackages(markdown) {
  const names = new Set()
  for (const match of markdown.matchAll(INSTALL_COMMAND)) {
    for (const token of match[1].trim().split(/\s+/)) {
      if (token.startsWith('-')) continue
      names.add(packageName(token.replace(/(.)@[^/]*$/, '$1')))
    }
  }
  return names
}

/** The package part of an import specifier: `@scope/name` or `name`, without a subpath. */
export function packageName(specifier) {
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]
}

/** The packages a snippet imports (builtins and relative paths left out), in order of first appearance. */
export function importedPackages(code) {
  const names = []
  for (const match of code.matchAll(IMPORT_SPECIFIER)) {
    const specifier = match[1]
    if (specifier.startsWith('.') || specifier.startsWith('node:') || BUILTINS.has(specifier)) continue
    const name = packageName(specifier)
    if (!names.includes(name)) names.push(name)
  }
  return names
}

/**
 * Imports of `snippets` (all from one markdown file) that no install command of that file names. A package
 * that only comes along as a dependency does not count: pnpm (and npm with `install-strategy=linked`) does not
 * let a project import what it did not install itself.
 *
 * @returns one sentence per missing package, located at the snippet.
 */
export function findUninstalledImports(markdown, snippets) {
  const installed = installedPackages(markdown)
  const problems = []
  for (const snippet of snippets) {
    for (const name of importedPackages(snippet.code)) {
      if (!installed.has(name)) {
        problems.push(
          `${snippet.file}:${snippet.line}: the snippet imports ${name}, which no install command in ${snippet.file} names (e.g. \`npm install ${name}\`)`,
        )
      }
    }
  }
  return problems
}
