// Every package a snippet imports must come with an install command of the same markdown file (`npm install`,
// `pnpm add`, `yarn add`, in a code block or inline code), directly or as a dependency (or a required peer,
// which npm and pnpm install too) of a package such a command installs. Node's own modules need nothing.
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { dirname, join, resolve } from 'node:path'

const INSTALL_COMMAND = /\b(?:npm\s+(?:install|i|add)|pnpm\s+(?:add|install)|yarn\s+add|bun\s+add)((?:[ \t]+[^\s`#;&|]+)+)/g
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
 * Imports of `snippets` (all from one markdown file) that its install commands do not bring.
 *
 * @returns one sentence per missing package, located at the snippet.
 */
export function findUninstalledImports(rootDir, markdown, snippets) {
  const closure = new DependencyClosure(resolve(rootDir))
  const installed = closure.of(installedPackages(markdown))
  const problems = []
  for (const snippet of snippets) {
    for (const name of importedPackages(snippet.code)) {
      if (!installed.has(name)) {
        problems.push(
          `${snippet.file}:${snippet.line}: the snippet imports ${name}, which no install command in ${snippet.file} brings; name it in one (e.g. \`npm install ${name}\`)`,
        )
      }
    }
  }
  return problems
}

/** Packages with what installing them brings: `dependencies` and peers that are not optional, recursively. */
class DependencyClosure {
  #rootDir
  #workspace
  constructor(rootDir) {
    this.#rootDir = rootDir
    this.#workspace = workspaceManifests(rootDir)
  }

  /** `names` and everything installing them brings. */
  of(names) {
    const seen = new Set()
    const pending = [...names].map((name) => ({ name, from: join(this.#rootDir, 'examples') }))
    while (pending.length > 0) {
      const { name, from } = pending.pop()
      if (seen.has(name)) continue
      seen.add(name)
      const found = this.#manifest(name, from)
      if (found === undefined) continue
      const optional = found.manifest.peerDependenciesMeta ?? {}
      const brought = [
        ...Object.keys(found.manifest.dependencies ?? {}),
        ...Object.keys(found.manifest.peerDependencies ?? {}).filter((peer) => optional[peer]?.optional !== true),
      ]
      for (const dependency of brought) pending.push({ name: dependency, from: found.dir })
    }
    return seen
  }

  /** A package's manifest: the workspace's own, or the installed one Node would resolve from `from`. */
  #manifest(name, from) {
    const own = this.#workspace.get(name)
    if (own !== undefined) return own
    for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
      const path = join(dir, 'node_modules', name, 'package.json')
      if (existsSync(path)) {
        return { dir: dirname(realpathSync(path)), manifest: JSON.parse(readFileSync(path, 'utf8')) }
      }
    }
    return undefined
  }
}

function workspaceManifests(rootDir) {
  const manifests = new Map()
  const packagesDir = join(rootDir, 'packages')
  for (const folder of existsSync(packagesDir) ? readdirSync(packagesDir) : []) {
    const path = join(packagesDir, folder, 'package.json')
    if (!existsSync(path)) continue
    const manifest = JSON.parse(readFileSync(path, 'utf8'))
    manifests.set(manifest.name, { dir: join(packagesDir, folder), manifest })
  }
  return manifests
}
