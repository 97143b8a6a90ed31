import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { cliUsage, parseCliArguments } from './cli-arguments'

describe('parseCliArguments', () => {
  it('maps flags to options, with agl-server defaults', () => {
    expect(parseCliArguments([])).toEqual({
      host: '127.0.0.1',
      port: 8080,
      key: '',
      modelName: 'Qwen/Qwen3-8B',
      models: [],
    })
    expect(
      parseCliArguments([
        '--port',
        '0',
        '--key',
        's3',
        '--model-name',
        'policy',
        '--model',
        'http://127.0.0.1:8000/v1',
        '--model',
        'http://127.0.0.1:8001/v1',
        '--train-temperature',
        '0.9',
        '--val-temperature',
        '0',
        '--no-log-probs',
      ]),
    ).toEqual({
      host: '127.0.0.1',
      port: 0,
      key: 's3',
      modelName: 'policy',
      models: [
        { model: 'policy', endpoint: 'http://127.0.0.1:8000/v1' },
        { model: 'policy', endpoint: 'http://127.0.0.1:8001/v1' },
      ],
      trainTemperature: 0.9,
      valTemperature: 0,
      includeLogProbs: false,
    })
    expect(parseCliArguments(['--help'])).toBe('help')
    expect(cliUsage).toContain('--model <endpoint>')
  })

  it('names a bad flag value', () => {
    expect(() => parseCliArguments(['--port', 'eighty'])).toThrow('--port must be a number, got eighty')
    expect(() => parseCliArguments(['--val-temperature', ''])).toThrow(
      '--val-temperature must be a number, got ',
    )
    expect(() => parseCliArguments(['--colour'])).toThrow(/colour/)
  })
})

describe('mock-agent-lightning command', () => {
  it('prints its URL, serves, and exits cleanly on SIGTERM', async () => {
    const cli = fileURLToPath(new URL('./cli.ts', import.meta.url))
    const child = spawn(
      process.execPath,
      ['--conditions=@vllm-tito/source', '--import', 'tsx', cli, '--port', '0', '--key', 'cli-key'],
      { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let output = ''
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.setEncoding('utf8')
        child.stdout.on('data', (piece: string) => {
          output += piece
          const match = /mock-agent-lightning listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(output)
          if (match) resolve(match[1]!)
        })
        child.on('exit', () => reject(new Error(`mock-agent-lightning exited early: ${output}`)))
      })
      expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' })
      expect((await fetch(`${url}/api/rollouts?state_in=queuing`)).status).toBe(401)
    } finally {
      child.kill('SIGTERM')
    }
    expect(await exited).toBe(0)
    expect(output).toContain('mock-agent-lightning stopped\n')
  })
})
