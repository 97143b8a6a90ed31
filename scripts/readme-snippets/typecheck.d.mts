import type { Snippet } from './extract.mjs'

/** A type error, located in the markdown file of its snippet. */
export interface SnippetTypeError {
  file: string
  line: number
  column: number
  code: string
  message: string
}
export function snippetModuleDirectory(rootDir: string, name?: string): string
export function writeSnippetModules(snippets: readonly Snippet[], moduleDir: string): Map<string, Snippet>
export function typecheckSnippets(
  rootDir: string,
  snippets: readonly Snippet[],
  moduleDirectory?: string,
): Promise<SnippetTypeError[]>
export function formatErrors(errors: readonly SnippetTypeError[]): string[]
