import type { Snippet } from './readme-snippets/extract.mjs'

export function checkReadmeSnippets(rootDir: string): Promise<{ snippets: Snippet[]; problems: string[] }>
