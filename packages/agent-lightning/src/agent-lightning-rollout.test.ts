import { InvalidOptionError } from '@vllm-tito/spec'
import { afterEach, describe, expect, test } from 'vitest'
import { type EventReceiver, type ReceiverStep, startEventReceiver } from './__fixtures__/event-receiver'
import { EventPostError, InvalidEventError, RewardAlreadyEmittedError } from './agent-lightning-errors'
import { type AgentLightningOptions, agentLightningFromEnv } from './agent-lightning-from-env'
import type { EventRetry } from './post-event'

const receivers: EventReceiver[] = []

afterEach(async () => {
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()))
})

const fastRetries: AgentLightningOptions = { initialBackoffMs: 1, maxBackoffMs: 4, random: () => 0.5 }

async function rolloutAgainst(steps: ReceiverStep[], options: AgentLightningOptions = {}, key = 'agl-key-7') {
  const receiver = await startEventReceiver(steps)
  receivers.push(receiver)
  const rollout = agentLightningFromEnv(
    {
      AGL_OPENAI_BASE_URL: `${receiver.origin}/proxy/rollout/rollout-1/attempt/0/mode/train/openai/v1`,
      AGL_EVENT_URL: `${receiver.origin}/api/rollouts/rollout-1/attempt/0/events`,
      AGL_KEY: key,
    },
    { ...fastRetries, ...options },
  )
  return { receiver, rollout, eventUrl: `${receiver.origin}/api/rollouts/rollout-1/attempt/0/events` }
}

async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (error: unknown) => error as Error,
  )
}

describe('emitReward: what is sent', () => {
  test('one POST with the exact body, the bearer key and JSON content type; resolves to the stored event', async () => {
    const { receiver, rollout } = await rolloutAgainst([])
    const stored = await rollout.emitReward(0.75)
    expect(receiver.requests).toHaveLength(1)
    const [request] = receiver.requests
    expect(request?.method).toBe('POST')
    expect(request?.path).toBe('/api/rollouts/rollout-1/attempt/0/events')
    expect(request?.headers.authorization).toBe('Bearer agl-key-7')
    expect(request?.headers['content-type']).toBe('application/json')
    expect(request?.body).toBe('{"event_type":"reward","data":{"value":0.75}}')
    expect(stored).toEqual({
      event_type: 'reward',
      rollout_id: 'rollout-1',
      attempt_id: '0',
      timestamp: 1_790_000_000.5,
      data: { value: 0.75 },
    })
    expect(rollout.rewardState).toBe('posted')
  })

  test('message, source and reason go into data; an empty key sends no authorization header', async () => {
    const { receiver, rollout } = await rolloutAgainst([], {}, '')
    await rollout.emitReward(-1, { message: 'wrong answer', source: 'agent', reason: 'mismatch' })
    expect(receiver.requests[0]?.headers.authorization).toBeUndefined()
    expect(JSON.parse(receiver.requests[0]!.body)).toEqual({
      event_type: 'reward',
      data: { value: -1, message: 'wrong answer', source: 'agent', reason: 'mismatch' },
    })
  })

  test.each([
    [
      true,
      'emitReward: the reward must be a finite number, got true (Agent Lightning drops boolean rewards: send 1 or 0)',
    ],
    [
      false,
      'emitReward: the reward must be a finite number, got false (Agent Lightning drops boolean rewards: send 1 or 0)',
    ],
    [Number.NaN, 'emitReward: the reward must be a finite number, got NaN'],
    [Number.POSITIVE_INFINITY, 'emitReward: the reward must be a finite number, got Infinity'],
    [Number.NEGATIVE_INFINITY, 'emitReward: the reward must be a finite number, got -Infinity'],
    ['1', 'emitReward: the reward must be a finite number, got the string "1"'],
    [undefined, 'emitReward: the reward must be a finite number, got undefined'],
    [null, 'emitReward: the reward must be a finite number, got null'],
  ])('%s is refused with InvalidEventError before anything is sent', async (value, message) => {
    const { receiver, rollout } = await rolloutAgainst([])
    const error = await rejectionOf(rollout.emitReward(value as never))
    expect(InvalidEventError.isInstance(error)).toBe(true)
    expect((error as InvalidEventError).field).toBe('value')
    expect(error.message).toBe(message)
    expect(receiver.requests).toEqual([])
    expect(rollout.rewardState).toBe('none')
  })

  test.each([
    [
      { mesage: 'x' },
      'emitReward: unknown option `mesage` (did you mean `message`?); known options: message, source, reason',
    ],
    [{ source: 1 }, 'emitReward: option `source` must be a string, got 1'],
    ['why', 'emitReward: options must be an object, got the string "why"'],
  ])('details %j are refused with InvalidOptionError before anything is sent', async (details, message) => {
    const { receiver, rollout } = await rolloutAgainst([])
    const error = await rejectionOf(rollout.emitReward(1, details as never))
    expect(InvalidOptionError.isInstance(error)).toBe(true)
    expect(error.message).toBe(message)
    expect(receiver.requests).toEqual([])
  })
})

describe('emitReward: at most once per rollout', () => {
  test('a second call after the first was posted throws and sends nothing', async () => {
    const { receiver, rollout } = await rolloutAgainst([])
    await rollout.emitReward(1)
    const error = await rejectionOf(rollout.emitReward(0))
    expect(RewardAlreadyEmittedError.isInstance(error)).toBe(true)
    expect(error.message).toBe(
      'emitReward: rollout rollout-1 already has a reward (1, which was already posted); 0 was not sent — post one reward per rollout',
    )
    expect(receiver.requests).toHaveLength(1)
  })

  test('a second call while the first is still in flight throws at once; the first still completes', async () => {
    const { receiver, rollout } = await rolloutAgainst([{ status: 503 }, { status: 200 }], {
      initialBackoffMs: 50,
      maxBackoffMs: 50,
    })
    const first = rollout.emitReward(1)
    expect(rollout.rewardState).toBe('posting')
    const error = await rejectionOf(rollout.emitReward(1))
    expect(RewardAlreadyEmittedError.isInstance(error)).toBe(true)
    expect(error.message).toContain('(1, which is still being posted)')
    await first
    expect(rollout.rewardState).toBe('posted')
    expect(receiver.requests.map((request) => request.body)).toEqual([
      '{"event_type":"reward","data":{"value":1}}',
      '{"event_type":"reward","data":{"value":1}}',
    ])
  })

  test('after a post that failed, the state says so and a new call may try again', async () => {
    const { receiver, rollout } = await rolloutAgainst([
      { status: 400, body: '{"detail":"bad"}' },
      { status: 200 },
    ])
    await rejectionOf(rollout.emitReward(1))
    expect(rollout.rewardState).toBe('failed')
    await rollout.emitReward(1)
    expect(rollout.rewardState).toBe('posted')
    expect(receiver.requests).toHaveLength(2)
  })
})

describe('emitReward: retries', () => {
  test('5xx then 200: retried after the backoff, onRetry told why', async () => {
    const retries: EventRetry[] = []
    const { receiver, rollout } = await rolloutAgainst(
      [{ status: 503, body: 'upstream busy' }, { status: 502 }, { status: 200 }],
      {
        initialBackoffMs: 2,
        maxBackoffMs: 8,
        onRetry: (retry) => retries.push(retry),
      },
    )
    await rollout.emitReward(1)
    expect(receiver.requests).toHaveLength(3)
    expect(retries).toEqual([
      { eventType: 'reward', attempt: 1, delayMs: 2, reason: 'HTTP 503' },
      { eventType: 'reward', attempt: 2, delayMs: 4, reason: 'HTTP 502' },
    ])
  })

  test('a dropped connection is retried like a 5xx', async () => {
    const retries: EventRetry[] = []
    const { receiver, rollout } = await rolloutAgainst(['reset', { status: 200 }], {
      onRetry: (retry) => retries.push(retry),
    })
    await rollout.emitReward(0.5)
    expect(receiver.requests).toHaveLength(2)
    expect(retries).toHaveLength(1)
    expect(retries[0]?.reason).toMatch(/^connection error: /)
  })

  test.each([400, 401, 404, 409, 422, 429])(
    'HTTP %i is final at once: one request, a typed error',
    async (status) => {
      const { receiver, rollout, eventUrl } = await rolloutAgainst([
        { status, body: JSON.stringify({ detail: `refused ${status}` }) },
      ])
      const error = await rejectionOf(rollout.emitReward(1))
      expect(EventPostError.isInstance(error)).toBe(true)
      const postError = error as EventPostError
      expect(postError.statusCode).toBe(status)
      expect(postError.isRetryable).toBe(false)
      expect(postError.attempts).toBe(1)
      expect(postError.url).toBe(eventUrl)
      expect(postError.eventType).toBe('reward')
      expect(error.message).toMatch(
        new RegExp(
          `^could not post the reward event to ${eventUrl.replaceAll('/', '\\/')}: HTTP ${status}: refused ${status}`,
        ),
      )
      expect(receiver.requests).toHaveLength(1)
    },
  )

  test('a 401 names AGL_KEY as the likely cause and never the key itself, even when the body echoes it', async () => {
    const { rollout, eventUrl } = await rolloutAgainst([
      { status: 401, body: '{"detail":"Invalid or missing API key: agl-key-7"}' },
    ])
    const error = (await rejectionOf(rollout.emitReward(1))) as EventPostError
    expect(error.message).toBe(
      `could not post the reward event to ${eventUrl}: HTTP 401: Invalid or missing API key: *** (AGL_KEY does not match the gateway key)`,
    )
    expect(error.responseBody).toBe('{"detail":"Invalid or missing API key: ***"}')
  })

  test('5xx on every attempt: maxAttempts requests, then an error with the last status and body', async () => {
    const { receiver, rollout, eventUrl } = await rolloutAgainst(
      [{ status: 500, body: 'Internal Server Error' }],
      {
        maxAttempts: 3,
      },
    )
    const error = (await rejectionOf(rollout.emitReward(1))) as EventPostError
    expect(receiver.requests).toHaveLength(3)
    expect(error.message).toBe(
      `could not post the reward event to ${eventUrl}: HTTP 500: Internal Server Error on all 3 attempts`,
    )
    expect(error.statusCode).toBe(500)
    expect(error.isRetryable).toBe(true)
    expect(error.attempts).toBe(3)
  })

  test('no server listening: connection errors on every attempt, then an error naming the URL', async () => {
    const { receiver, rollout, eventUrl } = await rolloutAgainst([], { maxAttempts: 2 })
    await receiver.close()
    const error = (await rejectionOf(rollout.emitReward(1))) as EventPostError
    expect(error.message).toBe(
      `could not post the reward event to ${eventUrl}: connection error: ECONNREFUSED on all 2 attempts`,
    )
    expect(error.statusCode).toBeUndefined()
    expect(error.attempts).toBe(2)
  })

  test('an answer that never comes times out per attempt', async () => {
    const { receiver, rollout, eventUrl } = await rolloutAgainst(['hang'], { maxAttempts: 2, timeoutMs: 50 })
    const error = (await rejectionOf(rollout.emitReward(1))) as EventPostError
    expect(receiver.requests).toHaveLength(2)
    expect(error.message).toBe(
      `could not post the reward event to ${eventUrl}: timed out after 50 ms on all 2 attempts`,
    )
  })

  test('maxAttempts 1 means no retry at all', async () => {
    const { receiver, rollout, eventUrl } = await rolloutAgainst([{ status: 503, body: 'busy' }], {
      maxAttempts: 1,
    })
    const error = await rejectionOf(rollout.emitReward(1))
    expect(error.message).toBe(
      `could not post the reward event to ${eventUrl}: HTTP 503: busy on the only attempt`,
    )
    expect(receiver.requests).toHaveLength(1)
  })
})

describe('emitEvent', () => {
  test('posts any other event type with its data, retried like the reward', async () => {
    const { receiver, rollout } = await rolloutAgainst([{ status: 503 }, { status: 200 }])
    await rollout.emitEvent('tool_result', { tool: 'calculator', ok: true, ids: [1, 2] })
    expect(receiver.requests.map((request) => request.body)).toEqual([
      '{"event_type":"tool_result","data":{"tool":"calculator","ok":true,"ids":[1,2]}}',
      '{"event_type":"tool_result","data":{"tool":"calculator","ok":true,"ids":[1,2]}}',
    ])
  })

  test('data defaults to an empty object', async () => {
    const { receiver, rollout } = await rolloutAgainst([])
    await rollout.emitEvent('started')
    expect(receiver.requests[0]?.body).toBe('{"event_type":"started","data":{}}')
  })

  test.each([
    ['', {}, 'type', 'emitEvent: the event type must be a non-empty string, got the string ""'],
    [
      'reward',
      { value: 1 },
      'type',
      'emitEvent: "reward" events are not posted this way: use emitReward (one reward per rollout, checked before it is sent)',
    ],
    [
      'model_request',
      {},
      'type',
      'emitEvent: "model_request" events are not posted this way: the gateway records every model call itself; a hand-made one would become a training sample',
    ],
    ['x', [1], 'data', 'emitEvent: data must be a plain object, got an array'],
    [
      'x',
      { score: Number.NaN },
      'data',
      'emitEvent: data.score is NaN, which JSON cannot carry (it would be sent as null)',
    ],
    [
      'x',
      { at: new Date(0) },
      'data',
      'emitEvent: data.at is a Date, not plain JSON (use strings, numbers, booleans, arrays and plain objects)',
    ],
    [
      'x',
      { list: [1, undefined] },
      'data',
      'emitEvent: data.list[1] is undefined (it would be sent as null)',
    ],
    ['x', { big: 1n }, 'data', 'emitEvent: data.big is 1, which JSON cannot carry'],
  ])('type %j with data %s is refused (%s) before anything is sent', async (type, data, field, message) => {
    const { receiver, rollout } = await rolloutAgainst([])
    const error = await rejectionOf(rollout.emitEvent(type, data as never))
    expect(InvalidEventError.isInstance(error)).toBe(true)
    expect((error as InvalidEventError).field).toBe(field)
    expect(error.message).toBe(message)
    expect(receiver.requests).toEqual([])
  })

  test('a cycle in data is refused', async () => {
    const { rollout } = await rolloutAgainst([])
    const data: Record<string, unknown> = { name: 'loop' }
    data.self = data
    const error = await rejectionOf(rollout.emitEvent('x', data))
    expect(error.message).toBe('emitEvent: data.self refers back to an object that contains it (a cycle)')
  })
})
