import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { cliUsage, parseCliArguments } from './cli-arguments'

describe('parseCliArguments', () => {
  it('maps flags to options', () => {
    expect(
      parseCliArguments([
        '--port',
        '0',
        '--policy',
        'random',
        '--random-tokens',
        '32',
        '--mode',
        'legacy-0.10',
        '--seed',
        '3',
        '--tokens-per-chunk',
        '4',
        '--fault',
        '{"kind":"missing-done"}',
      ]),
    ).toEqual({
      host: '127.0.0.1',
      port: 0,
      model: undefined,
      maxModelLen: undefined,
      policy: { random: { tokens: 32 } },
      mode: 'legacy-0.10',
      seed: 3,
      nonCanonicalRate: undefined,
      pacing: { tokensPerChunk: 4, firstTokenDelayMs: undefined, interChunkDelayMs: undefined },
      contextOverflowWording: undefined,
      faults: [{ kind: 'missing-done' }],
    })
    expect(parseCliArguments(['--reply', 'a', '--reply', 'b'])).toMatchObject({
      policy: { script: ['a', 'b'] },
      port: 8000,
    })
    expect(
      parseCliArguments([
        '--tool-stream-quirk',
        'one-piece-arguments',
        '--tool-stream-quirk',
        'required-name-null',
      ]),
    ).toMatchObject({ toolStreamQuirks: ['one-piece-arguments', 'required-name-null'] })
    expect(parseCliArguments([])).not.toHaveProperty('toolStreamQuirks')
    expect(parseCliArguments(['--help'])).toBe('help')
    expect(cliUsage).toContain('--policy <demo|random>')
  })

  it('names a bad flag value', () => {
    expect(() => parseCliArguments(['--port', 'eighty'])).toThrow('--port must be a number, got eighty')
    expect(() => parseCliArguments(['--policy', 'smart'])).toThrow('--policy must be demo or random')
    expect(() => parseCliArguments(['--fault', '{"kind":"explode"}'])).toThrow(
      /^--fault #1\.kind must be one of/,
    )
    expect(() => parseCliArguments(['--colour'])).toThrow(/colour/)
    expect(() => parseCliArguments(['--tool-stream-quirk', 'late-names'])).toThrow(
      '--tool-stream-quirk must be one of arguments-in-finish-chunk, one-piece-arguments, drop-empty-arguments, required-name-null, got late-names',
    )
  })
})

describe('mock-vllm command', () => {
  it('prints its URL, serves, and exits cleanly on SIGTERM', async () => {
    const cli = fileURLToPath(new URL('./cli.ts', import.meta.url))
    const child = spawn(process.execPath, ['--import', 'tsx', cli, '--port', '0', '--policy', 'demo'], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.setEncoding('utf8')
        child.stdout.on('data', (piece: string) => {
          output += piece
          const match = /mock-vllm listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(output)
          if (match) resolve(match[1]!)
        })
        child.on('exit', () => reject(new Error(`mock-vllm exited early: ${output}`)))
      })
      const health = await fetch(`${url}/health`)
      expect(health.status).toBe(200)
      const version = await fetch(`${url}/version`)
      expect(await version.json()).toEqual({ version: '0.28.0' })
    } finally {
      child.kill('SIGTERM')
    }
    expect(await exited).toBe(0)
    expect(output).toContain('mock-vllm stopped\n')
  })
})
