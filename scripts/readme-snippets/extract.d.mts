/** One TypeScript block of a markdown file. */
export interface Snippet {
  /** The markdown file, relative to the repository root. */
  file: string
  /** 1-based line of the block's first code line in `file`. */
  line: number
  /** The fence's indentation (a block inside a list item), in characters. */
  indent: number
  /** The code, dedented by {@link indent}. */
  code: string
  /** Whether the tests run it against mock-vllm (no `<!-- snippet: no-run: … -->` before it). */
  run: boolean
  /** The reason of a `no-run` marker. */
  noRunReason: string | undefined
}
export function listMarkdownFiles(rootDir: string): string[]
export function extractSnippets(markdown: string, file: string): Snippet[]
export function findSnippets(rootDir: string): Snippet[]
export function snippetName(snippet: Snippet): string
