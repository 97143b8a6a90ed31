import { mkdirSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** `examples/out/` (gitignored), unless `EXAMPLES_OUT_DIR` names another folder (the tests use a temporary one). */
export function outputDirectory(environment: NodeJS.ProcessEnv = process.env): string {
  const configured = environment.EXAMPLES_OUT_DIR?.trim()
  return configured ? resolve(configured) : fileURLToPath(new URL('../../out/', import.meta.url))
}

/**
 * The absolute path of an output file, with its folder created and any file of an earlier run removed: the
 * JSONL sinks append, and a rerun must not mix its lines with the previous run's.
 */
export function freshOutputPath(fileName: string): string {
  const directory = outputDirectory()
  mkdirSync(directory, { recursive: true })
  const path = join(directory, fileName)
  rmSync(path, { force: true })
  return path
}
