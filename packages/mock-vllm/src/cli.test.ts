import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { InvalidOptionError } from '@vllm-tito/spec'
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
    expect(parseCliArguments(['--enable-scale-out'])).toMatchObject({ enableScaleOut: true })
    expect(parseCliArguments([])).not.toHaveProperty('enableScaleOut')
    expect(parseCliArguments(['--help'])).toBe('help')
    expect(cliUsage).toContain('--policy <demo|random>')
  })

  it('refuses bad flags with an InvalidOptionError naming the flag', () => {
    const refusal = (argv: string[]) => {
      try {
        parseCliArguments(argv)
      } catch (error) {
        if (InvalidOptionError.isInstance(error)) return { option: error.option, message: error.message }
        throw error
      }
      throw new Error(`accepted ${argv.join(' ')}`)
    }
    expect(refusal(['--port', 'eighty'])).toEqual({
      option: '--port',
      message: 'mock-vllm: --port must be a number, got eighty',
    })
    expect(refusal(['--policy', 'smart']).message).toBe(
      'mock-vllm: --policy must be demo or random (or give --reply), got smart',
    )
    expect(refusal(['--fault', '{"kind":"explode"}']).message).toMatch(
      /^--fault #1: option `kind` must be one of 'http-status', /,
    )
    expect(refusal(['--fault', '{kind']).message).toBe('mock-vllm: --fault #1 is not valid JSON: {kind')
    expect(refusal(['--mdoe', 'current'])).toMatchObject({
      option: '--mdoe',
      message: expect.stringMatching(/^mock-vllm: unknown option `--mdoe` \(did you mean `--mode`\?\)/),
    })
    expect(refusal(['--colour']).message).toMatch(
      /^mock-vllm: unknown option `--colour`; known options: --host/,
    )
    expect(refusal(['--mode', 'v9']).message).toBe(
      "mock-vllm: option `mode` must be one of 'current', 'strict-0.20', 'legacy-0.10', 'pre-0.10.2', got the string \"v9\"",
    )
    expect(refusal(['--port'])).toEqual({
      option: '(arguments)',
      message: "mock-vllm: Option '--port <value>' argument missing",
    })
    expect(refusal(['--tool-stream-quirk', 'late-names']).message).toBe(
      'mock-vllm: --tool-stream-quirk must be one of arguments-in-finish-chunk, one-piece-arguments, drop-empty-arguments, required-name-null, got late-names',
    )
  })
})

describe('mock-vllm command', () => {
  it('exits with 2 and the usage when a flag value is out of range', async () => {
    const cli = fileURLToPath(new URL('./cli.ts', import.meta.url))
    const child = spawn(
      process.execPath,
      ['--conditions=@vllm-tito/source', '--import', 'tsx', cli, '--port', '99999'],
      { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let errors = ''
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (piece: string) => {
      errors += piece
    })
    const code = await new Promise<number | null>((resolve) =>
      child.on('exit', (exitCode) => resolve(exitCode)),
    )
    expect(code).toBe(2)
    expect(errors).toMatch(
      /^mock-vllm: startMockVllm: option `port` must be an integer from 0 to 65535, got 99999\n\nUsage: mock-vllm/,
    )
  })

  it('prints its URL, serves, and exits cleanly on SIGTERM', async () => {
    const cli = fileURLToPath(new URL('./cli.ts', import.meta.url))
    const child = spawn(
      process.execPath,
      ['--conditions=@vllm-tito/source', '--import', 'tsx', cli, '--port', '0', '--policy', 'demo'],
      {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
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
