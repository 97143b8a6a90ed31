import type { Snippet } from './extract.mjs'

export function installedPackages(markdown: string): Set<string>
export function packageName(specifier: string): string
export function importedPackages(code: string): string[]
export function findUninstalledImports(markdown: string, snippets: readonly Snippet[]): string[]
