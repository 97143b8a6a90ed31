// Stryker's build command: gives its sandbox (the working directory) node_modules folders in which the workspace
// packages resolve to the sandbox's own, mutated sources. Stryker's own `symlinkNodeModules` links each
// node_modules folder whole, and pnpm's relative links inside it then lead back to the original packages: a mutant
// in packages/spec would never reach the trajectory tests that import `@vllm-tito/spec`.
//
// Every entry of every node_modules folder of the repository is linked by its absolute real path, except links to
// a workspace package, which are recreated as they are (relative, so they resolve inside the sandbox).
// The repository is `MUTATION_REPOSITORY` (set by scripts/mutation/run.mjs), else the folder holding Stryker's
// temporary folder (`<repository>/.stryker-tmp/sandbox-…`).
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  symlinkSync,
} from 'node:fs'
import { basename, dirname, join, relative, resolve, sep } from 'node:path'

const sandbox = process.cwd()
const repository = resolve(process.env.MUTATION_REPOSITORY || resolve(sandbox, '../..'))
if (!process.env.MUTATION_REPOSITORY && basename(dirname(sandbox)) !== '.stryker-tmp') {
  throw new Error('link-node-modules.mjs: set MUTATION_REPOSITORY, or run it in a Stryker sandbox')
}
if (repository === sandbox) throw new Error('link-node-modules.mjs runs in a sandbox, not in the repository')
if (!existsSync(join(repository, 'pnpm-workspace.yaml'))) {
  throw new Error(`link-node-modules.mjs: ${repository} is not the repository (no pnpm-workspace.yaml)`)
}

/** Whether `path` is inside the repository but outside every node_modules folder: a workspace package. */
function isWorkspacePath(path) {
  const inside = relative(repository, path)
  return !inside.startsWith('..') && !inside.split(sep).includes('node_modules')
}

function linkEntries(folder, target) {
  mkdirSync(target, { recursive: true })
  for (const name of readdirSync(folder)) {
    // vite's caches and bundled configs are written per sandbox, never into the repository's
    if (name.startsWith('.vite')) continue
    const source = join(folder, name)
    const destination = join(target, name)
    const stat = lstatSync(source)
    if (name.startsWith('@') && stat.isDirectory()) {
      linkEntries(source, destination)
    } else if (stat.isSymbolicLink() && isWorkspacePath(realpathSync(source))) {
      symlinkSync(readlinkSync(source), destination)
    } else {
      symlinkSync(realpathSync(source), destination)
    }
  }
}

/** The node_modules folders of the repository, outside node_modules themselves (the root's and each package's). */
function nodeModulesFolders(folder, found = []) {
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === '.git' || entry.name.startsWith('.stryker')) continue
    const path = join(folder, entry.name)
    if (entry.name === 'node_modules') found.push(path)
    else nodeModulesFolders(path, found)
  }
  return found
}

let linked = 0
for (const folder of nodeModulesFolders(repository)) {
  const target = join(sandbox, relative(repository, folder))
  // a folder the sandbox does not hold (e.g. an ignored one) needs no node_modules
  if (!existsSync(dirname(target))) continue
  linkEntries(folder, target)
  linked += 1
}
console.log(`linked ${linked} node_modules folders into ${sandbox}`)
