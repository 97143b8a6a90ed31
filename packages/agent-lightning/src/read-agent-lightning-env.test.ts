import { InvalidOptionError } from '@vllm-tito/spec'
import { describe, expect, test } from 'vitest'
import { AgentLightningEnvironmentError, type EnvironmentProblem } from './agent-lightning-errors'
import { agentLightningFromEnv } from './agent-lightning-from-env'
import { readAgentLightningEnv } from './read-agent-lightning-env'

const gateway = 'http://agl.internal:8080'

/** The three variables exactly as the local and Kubernetes reconcilers build them. */
function controllerEnv(rolloutId = '3f2b9c', mode = 'train', attemptId = '0') {
  return {
    AGL_OPENAI_BASE_URL: `${gateway}/proxy/rollout/${rolloutId}/attempt/${attemptId}/mode/${mode}/openai/v1`,
    AGL_EVENT_URL: `${gateway}/api/rollouts/${rolloutId}/attempt/${attemptId}/events`,
    AGL_KEY: 'secret-key-42',
  }
}

function problemsOf(env: Record<string, string | undefined>): EnvironmentProblem[] {
  try {
    readAgentLightningEnv(env)
  } catch (error) {
    if (AgentLightningEnvironmentError.isInstance(error)) return [...error.problems]
    throw error
  }
  throw new Error('expected an AgentLightningEnvironmentError')
}

describe('readAgentLightningEnv: variables as the controller sets them', () => {
  test('takes the base URL, event URL, key, rollout id, attempt id and mode apart', () => {
    expect(readAgentLightningEnv(controllerEnv())).toEqual({
      baseUrl: `${gateway}/proxy/rollout/3f2b9c/attempt/0/mode/train/openai/v1`,
      eventUrl: `${gateway}/api/rollouts/3f2b9c/attempt/0/events`,
      key: 'secret-key-42',
      rolloutId: '3f2b9c',
      attemptId: '0',
      mode: 'train',
    })
  })

  test('val mode, a gateway behind a path prefix, and one trailing slash removed', () => {
    const env = {
      AGL_OPENAI_BASE_URL: 'https://lab.example/agl/proxy/rollout/r-1/attempt/2/mode/val/openai/v1/',
      AGL_EVENT_URL: 'https://lab.example/agl/api/rollouts/r-1/attempt/2/events',
      AGL_KEY: '',
    }
    expect(readAgentLightningEnv(env)).toEqual({
      baseUrl: 'https://lab.example/agl/proxy/rollout/r-1/attempt/2/mode/val/openai/v1',
      eventUrl: 'https://lab.example/agl/api/rollouts/r-1/attempt/2/events',
      key: '',
      rolloutId: 'r-1',
      attemptId: '2',
      mode: 'val',
    })
  })

  test('ids are percent-decoded like the gateway server decodes the path (raw space, %20, UTF-8)', () => {
    const raw = readAgentLightningEnv(controllerEnv('batch 7'))
    expect(raw.rolloutId).toBe('batch 7')
    expect(raw.baseUrl).toBe(`${gateway}/proxy/rollout/batch%207/attempt/0/mode/train/openai/v1`)
    expect(readAgentLightningEnv(controllerEnv('caf%C3%A9', 'train', 'a%2Bb')).rolloutId).toBe('café')
    expect(readAgentLightningEnv(controllerEnv('caf%C3%A9', 'train', 'a%2Bb')).attemptId).toBe('a+b')
    expect(readAgentLightningEnv(controllerEnv('r', '%74rain')).mode).toBe('train')
  })

  test('an empty AGL_KEY is accepted (the controller sets "" when the gateway has no key)', () => {
    const env = { ...controllerEnv(), AGL_KEY: '' }
    expect(readAgentLightningEnv(env).key).toBe('')
    expect(agentLightningFromEnv(env).apiKey).toBe('EMPTY')
    expect(agentLightningFromEnv(controllerEnv()).apiKey).toBe('secret-key-42')
  })
})

describe('readAgentLightningEnv: every problem named at once', () => {
  test('all three missing: three problems, each saying what Agent Lightning sets', () => {
    expect(problemsOf({})).toEqual([
      {
        variable: 'AGL_OPENAI_BASE_URL',
        problem:
          "is not set (Agent Lightning's controller sets it to <gateway>/proxy/rollout/{rollout_id}/attempt/{attempt_id}/mode/{train|val}/openai/v1)",
      },
      {
        variable: 'AGL_EVENT_URL',
        problem:
          "is not set (Agent Lightning's controller sets it to <gateway>/api/rollouts/{rollout_id}/attempt/{attempt_id}/events)",
      },
      {
        variable: 'AGL_KEY',
        problem:
          'is not set (Agent Lightning sets it for every rollout, to an empty string when the gateway runs without a key)',
      },
    ])
  })

  test('the error message lists each problem on its own line', () => {
    expect(() =>
      readAgentLightningEnv({ AGL_KEY: 'k', AGL_EVENT_URL: ' ', AGL_OPENAI_BASE_URL: '' }),
    ).toThrow(
      'agentLightningFromEnv: the Agent Lightning environment is not usable (2 problems):\n' +
        '- AGL_OPENAI_BASE_URL: is empty (expected <gateway>/proxy/rollout/{rollout_id}/attempt/{attempt_id}/mode/{train|val}/openai/v1)\n' +
        '- AGL_EVENT_URL: is empty (expected <gateway>/api/rollouts/{rollout_id}/attempt/{attempt_id}/events)',
    )
  })

  test.each([
    ['not a URL', 'localhost:8080/proxy', 'must be an http:// or https:// URL, got "localhost:8080/proxy"'],
    ['not parseable', 'http://[::1', 'is not a URL: "http://[::1"'],
    [
      'another scheme',
      'ftp://h/proxy/rollout/r/attempt/0/mode/train/openai/v1',
      'must be an http:// or https:// URL, got "ftp://h/proxy/rollout/r/attempt/0/mode/train/openai/v1"',
    ],
    [
      'a query',
      `${gateway}/proxy/rollout/r/attempt/0/mode/train/openai/v1?x=1`,
      `must have no query or fragment (paths are appended to it), got "${gateway}/proxy/rollout/r/attempt/0/mode/train/openai/v1?x=1"`,
    ],
    [
      'the gateway root only',
      gateway,
      `must have the shape <gateway>/proxy/rollout/{rollout_id}/attempt/{attempt_id}/mode/{train|val}/openai/v1, got "${gateway}/"`,
    ],
    [
      'an upstream path appended',
      `${gateway}/proxy/rollout/r/attempt/0/mode/train/openai/v1/chat/completions`,
      `must have the shape <gateway>/proxy/rollout/{rollout_id}/attempt/{attempt_id}/mode/{train|val}/openai/v1, got "${gateway}/proxy/rollout/r/attempt/0/mode/train/openai/v1/chat/completions"`,
    ],
    [
      'a mode the gateway does not serve',
      `${gateway}/proxy/rollout/r/attempt/0/mode/test/openai/v1`,
      'has mode "test"; the gateway serves only train and val',
    ],
    [
      'broken percent-encoding',
      `${gateway}/proxy/rollout/r%ZZ/attempt/0/mode/train/openai/v1`,
      'the rollout id segment "r%ZZ" is not valid percent-encoding',
    ],
    [
      'an encoded slash',
      `${gateway}/proxy/rollout/a%2Fb/attempt/0/mode/train/openai/v1`,
      'the rollout id "a/b" contains "/" once decoded; the gateway decodes the path before routing, so no request could reach it',
    ],
  ])('AGL_OPENAI_BASE_URL with %s', (_label, value, problem) => {
    const env = { ...controllerEnv('r'), AGL_OPENAI_BASE_URL: value }
    expect(problemsOf(env)).toEqual([{ variable: 'AGL_OPENAI_BASE_URL', problem }])
  })

  test('credentials in a malformed URL are not repeated in the message', () => {
    const env = { ...controllerEnv('r'), AGL_EVENT_URL: 'http://user:hunter2@h/api/rollouts/r/events' }
    expect(problemsOf(env)).toEqual([
      {
        variable: 'AGL_EVENT_URL',
        problem:
          'must have the shape <gateway>/api/rollouts/{rollout_id}/attempt/{attempt_id}/events, got "http://h/api/rollouts/r/events"',
      },
    ])
  })

  test('the event URL must name the same rollout and attempt as the proxy URL', () => {
    const env = { ...controllerEnv('r1'), AGL_EVENT_URL: `${gateway}/api/rollouts/r2/attempt/1/events` }
    expect(problemsOf(env)).toEqual([
      { variable: 'AGL_EVENT_URL', problem: 'names rollout "r2" but AGL_OPENAI_BASE_URL names rollout "r1"' },
      { variable: 'AGL_EVENT_URL', problem: 'names attempt "1" but AGL_OPENAI_BASE_URL names attempt "0"' },
    ])
  })

  test('problems of different variables are reported together, and the key never appears', () => {
    const env = {
      AGL_OPENAI_BASE_URL: `${gateway}/proxy/rollout/r/attempt/0/mode/eval/openai/v1`,
      AGL_EVENT_URL: 'not a url',
      AGL_KEY: 'sk-do-not-print',
    }
    let message = ''
    try {
      readAgentLightningEnv(env)
    } catch (error) {
      message = (error as Error).message
    }
    expect(problemsOf(env).map((entry) => entry.variable)).toEqual(['AGL_OPENAI_BASE_URL', 'AGL_EVENT_URL'])
    expect(message).toContain('has mode "eval"')
    expect(message).toContain('is not a URL: "not a url"')
    expect(message).not.toContain('sk-do-not-print')
  })
})

describe('agentLightningFromEnv', () => {
  test('reads process.env by default', () => {
    const saved = { ...process.env }
    Object.assign(process.env, controllerEnv('from-process'))
    try {
      const rollout = agentLightningFromEnv()
      expect(rollout.rolloutId).toBe('from-process')
      expect(rollout.mode).toBe('train')
    } finally {
      for (const name of ['AGL_OPENAI_BASE_URL', 'AGL_EVENT_URL', 'AGL_KEY']) {
        if (saved[name] === undefined) delete process.env[name]
        else process.env[name] = saved[name]
      }
    }
  })

  test('the rollout object never shows the key when logged or serialised', async () => {
    const rollout = agentLightningFromEnv(controllerEnv())
    const { inspect } = await import('node:util')
    expect(inspect(rollout)).not.toContain('secret-key-42')
    expect(JSON.parse(JSON.stringify(rollout))).toEqual({
      baseUrl: `${gateway}/proxy/rollout/3f2b9c/attempt/0/mode/train/openai/v1`,
      eventUrl: `${gateway}/api/rollouts/3f2b9c/attempt/0/events`,
      rolloutId: '3f2b9c',
      attemptId: '0',
      mode: 'train',
      rewardState: 'none',
    })
  })

  test.each([
    [
      { maxAttempts: 0 },
      'agentLightningFromEnv: option `maxAttempts` must be an integer from 1 to 20, got 0',
    ],
    [
      { maxAttempts: 2.5 },
      'agentLightningFromEnv: option `maxAttempts` must be an integer from 1 to 20, got 2.5',
    ],
    [
      { timeoutMs: -1 },
      'agentLightningFromEnv: option `timeoutMs` must be an integer from 1 to 3600000, got -1',
    ],
    [
      { initialBackoffMs: 500, maxBackoffMs: 100 },
      'agentLightningFromEnv: option `maxBackoffMs` (100) must be at least `initialBackoffMs` (500)',
    ],
    [{ fetch: 'fetch' }, 'agentLightningFromEnv: option `fetch` must be a function, got the string "fetch"'],
    [
      { maxAttempt: 3 },
      'agentLightningFromEnv: unknown option `maxAttempt` (did you mean `maxAttempts`?); known options: maxAttempts, initialBackoffMs, maxBackoffMs, timeoutMs, fetch, random, onRetry',
    ],
  ])('option %j is refused with InvalidOptionError', (options, message) => {
    const attempt = () => agentLightningFromEnv(controllerEnv(), options as never)
    expect(attempt).toThrow(InvalidOptionError)
    expect(attempt).toThrow(message)
  })

  test('env must be an object', () => {
    expect(() => agentLightningFromEnv('AGL_KEY=x' as never)).toThrow(
      'agentLightningFromEnv: env must be an object of environment variables (like process.env), got the string "AGL_KEY=x"',
    )
  })
})
