import { type ChildProcess, spawn } from 'node:child_process'
import { get } from 'node:http'
import { join } from 'node:path'

/** A mock-vllm server running in its own process, so its CPU is not counted against the client. */
export interface SpawnedMockVllm {
  baseUrl: string
  /**
   * The server's `vllm:generation_tokens_total` (`GET /metrics`): every id it sampled since it started. The
   * difference of two reads is what it sampled in between, to compare with the ids a run received.
   */
  generationTokens(): Promise<number>
  /** Sends SIGTERM and waits for the process to exit. */
  stop(): Promise<void>
}

const root = join(import.meta.dirname, '..')

/** Starts `mock-vllm` (from sources) on a free loopback port with the given CLI flags. */
export async function spawnMockVllm(flags: string[]): Promise<SpawnedMockVllm> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--conditions=@vllm-tito/source',
      '--import',
      'tsx',
      join(root, 'packages/mock-vllm/src/cli.ts'),
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      ...flags,
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const baseUrl = await new Promise<string>((resolve, reject) => {
    let output = ''
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8')
      const match = /listening on (http:\/\/\S+)/.exec(output)
      if (match?.[1]) {
        child.stdout?.off('data', onData)
        child.stdout?.resume()
        resolve(match[1])
      }
    }
    child.stdout?.on('data', onData)
    child.once('exit', (code) =>
      reject(new Error(`mock-vllm exited with code ${code} before listening: ${output}`)),
    )
  })
  return {
    baseUrl,
    generationTokens: () => generationTokens(baseUrl),
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM')
      await exited
    },
  }
}

async function generationTokens(baseUrl: string): Promise<number> {
  // a connection of its own (no pooled keep-alive socket the server may be closing), so a scrape never races
  const text = await new Promise<string>((resolve, reject) => {
    get(`${baseUrl}/metrics`, { agent: false }, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (piece: string) => {
        body += piece
      })
      response.on('end', () => resolve(body))
      response.on('error', reject)
    }).on('error', reject)
  })
  const match = /^vllm:generation_tokens_total\{[^}]*\} (\d+(?:\.\d+)?)$/m.exec(text)
  if (!match) throw new Error(`mock-vllm's /metrics has no vllm:generation_tokens_total sample:\n${text}`)
  return Number(match[1])
}

/** The value at quantile `q` (0..1) of numbers, nearest-rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((left, right) => left - right)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}
