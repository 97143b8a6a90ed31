import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const sourceFolder = fileURLToPath(new URL('../src/', import.meta.url))
// tsx is a root dev dependency; its CLI is what the package.json scripts run
const tsxCli = createRequire(import.meta.url).resolve('tsx/cli')

/** What one example printed, how it exited, and where its output files went. */
export interface ExampleRun {
  exitCode: number
  stdout: string
  stderr: string
  /** The temporary `EXAMPLES_OUT_DIR` of this run. */
  outputDirectory: string
  /** Reads a file the example wrote to its output folder. */
  readOutput(fileName: string): string
  /** Deletes the output folder. */
  cleanUp(): void
}

/**
 * Runs `src/<file>` as the package.json scripts do (tsx with the source condition), in a child process, with a
 * fresh output folder and without any `VLLM_*` variable of the calling shell unless `environment` sets one.
 */
export function runExampleFile(file: string, environment: Record<string, string> = {}): Promise<ExampleRun> {
  const outputDirectory = mkdtempSync(join(tmpdir(), 'vllm-tito-example-'))
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !name.startsWith('VLLM_') && name !== 'MOCK_NON_CANONICAL_RATE',
    ),
  )
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [tsxCli, '--conditions=@vllm-tito/source', join(sourceFolder, file)],
      {
        env: { ...inherited, ...environment, EXAMPLES_OUT_DIR: outputDirectory, NO_COLOR: '1' },
        timeout: 60_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const exitCode = error ? (typeof error.code === 'number' ? error.code : 1) : 0
        resolve({
          exitCode,
          stdout,
          stderr,
          outputDirectory,
          readOutput: (fileName) => readFileSync(join(outputDirectory, fileName), 'utf8'),
          cleanUp: () => rmSync(outputDirectory, { recursive: true, force: true }),
        })
      },
    )
  })
}

/** The value printed after `label` on its line, e.g. `valueAfter(stdout, 'answer: ')`. */
export function valueAfter(text: string, label: string): string {
  const line = text.split('\n').find((candidate) => candidate.startsWith(label))
  if (line === undefined) throw new Error(`no line starting with ${JSON.stringify(label)} in:\n${text}`)
  return line.slice(label.length)
}

/** Parses a JSONL text into its rows. */
export function parseJsonl(text: string): unknown[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as unknown)
}
