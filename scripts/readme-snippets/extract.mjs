// Finds the TypeScript snippets (```ts / ```typescript blocks) of the repository's markdown: every README.md,
// ARCHITECTURE.md and docs/*.md. A block runs against mock-vllm in the tests unless the line before its fence
// (blank lines aside) is `<!-- snippet: no-run: <why> -->`; every block is type-checked.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'

const SKIPPED_DIRECTORIES = new Set([
  'node_modules',
  'dist',
  '.git',
  '.turbo',
  '.tools',
  'out',
  '.readme-snippets',
])
const OPENING_FENCE = /^(\s*)(`{3,}|~{3,})\s*(ts|typescript)\s*$/
const ANY_FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)\s*$/
const MARKER = /^\s*<!--\s*snippet:\s*([\w-]+)\s*(?::\s*(.*?))?\s*-->\s*$/
const KNOWN_MARKERS = new Set(['no-run'])

/** The markdown files whose snippets are checked, relative to `rootDir`, sorted. */
export function listMarkdownFiles(rootDir) {
  const files = []
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRECTORIES.has(entry.name) && !entry.name.startsWith('.')) walk(join(dir, entry.name))
      } else if (entry.name === 'README.md') files.push(relative(rootDir, join(dir, entry.name)))
    }
  }
  walk(rootDir)
  if (existsSync(join(rootDir, 'ARCHITECTURE.md'))) files.push('ARCHITECTURE.md')
  const docs = join(rootDir, 'docs')
  if (existsSync(docs)) {
    for (const name of readdirSync(docs)) if (name.endsWith('.md')) files.push(join('docs', name))
  }
  return files.sort()
}

/**
 * The TypeScript blocks of one markdown text: `{ file, line, indent, code, run, noRunReason }`, where `line` is
 * the 1-based line of the block's first code line and `code` is dedented by `indent`, the fence's indentation.
 *
 * @throws Error naming the file and line for an unknown marker, a no-run marker without a reason, or a
 *   block that is never closed.
 */
export function extractSnippets(markdown, file) {
  const lines = markdown.split('\n')
  const snippets = []
  let lastMarker
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index]
    const marker = MARKER.exec(line)
    if (marker) {
      if (!KNOWN_MARKERS.has(marker[1]))
        throw new Error(`${file}:${index + 1}: unknown snippet marker ${marker[1]}`)
      if (!marker[2])
        throw new Error(`${file}:${index + 1}: \`snippet: ${marker[1]}\` needs a reason after a colon`)
      lastMarker = { kind: marker[1], reason: marker[2], line: index + 1 }
      continue
    }
    const fence = ANY_FENCE.exec(line)
    if (fence) {
      const end = closingFence(lines, index, fence)
      if (end < 0) throw new Error(`${file}:${index + 1}: code block is never closed`)
      if (OPENING_FENCE.test(line)) {
        const indent = fence[1].length
        const code = lines
          .slice(index + 1, end)
          .map((codeLine) => codeLine.slice(Math.min(indent, codeLine.length - codeLine.trimStart().length)))
          .join('\n')
        const noRun = lastMarker?.kind === 'no-run' ? lastMarker.reason : undefined
        snippets.push({ file, line: index + 2, indent, code, run: noRun === undefined, noRunReason: noRun })
      } else if (lastMarker !== undefined) {
        throw new Error(`${file}:${lastMarker.line}: a snippet marker must come right before a ts block`)
      }
      lastMarker = undefined
      index = end
      continue
    }
    if (line.trim() !== '' && lastMarker !== undefined) {
      throw new Error(`${file}:${lastMarker.line}: a snippet marker must come right before a ts block`)
    }
  }
  return snippets
}

/** Every snippet of every checked markdown file under `rootDir`. */
export function findSnippets(rootDir) {
  return listMarkdownFiles(rootDir).flatMap((file) =>
    extractSnippets(readFileSync(join(rootDir, file), 'utf8'), file),
  )
}

/** A short file-system-safe name of a snippet: `packages-client-README-L19`. */
export function snippetName(snippet) {
  return `${snippet.file.replace(/\.md$/, '').replace(/[^\w]+/g, '-')}-L${snippet.line}`
}

function closingFence(lines, openingIndex, fence) {
  const [, indent, marks] = fence
  const closing = new RegExp(
    `^\\s{0,${indent.length + 3}}${marks[0] === '`' ? '`' : '~'}{${marks.length},}\\s*$`,
  )
  for (let index = openingIndex + 1; index < lines.length; index += 1) {
    if (closing.test(lines[index])) return index
  }
  return -1
}
