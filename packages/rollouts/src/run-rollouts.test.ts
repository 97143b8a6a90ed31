import { type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import { InvalidOptionError } from '@vllm-tito/spec'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { InvalidTaskError, RunCancelledError } from './errors'
import type { RolloutFunction, RolloutResult, RolloutTask } from './rollout-types'
import type { RunRolloutsOptions } from './run-options'
import { runRollouts } from './run-rollouts'
import { singleTurnRollout } from './single-turn-rollout'

const MODEL = 'Qwen/Qwen3-8B'
const tasks: RolloutTask[] = [
  { id: 'a', question: 'What is 1 + 1?', answer: '2' },
  { id: 7, question: 'What is 2 + 2?', answer: '4' },
  { id: 'c', question: 'What is 3 + 3?', answer: '6' },
]

let server: MockVllmServer

beforeAll(async () => {
  server = await startMockVllm({ model: MODEL, policy: { script: ['A short reply.'] } })
})
afterAll(async () => {
  await server.close()
})

function options(overrides: Partial<RunRolloutsOptions> = {}): RunRolloutsOptions {
  return {
    tasks,
    rollout: singleTurnRollout(),
    baseUrl: server.baseUrl,
    modelId: MODEL,
    retry: { attempts: 1 },
    ...overrides,
  }
}

async function collect(run: AsyncIterable<RolloutResult>): Promise<RolloutResult[]> {
  const results: RolloutResult[] = []
  for await (const result of run) results.push(result)
  return results
}

/** Resolves after `ms`, or at once when the signal aborts. */
function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms)
    signal.addEventListener('abort', () => {
      clearTimeout(timer)
      resolve()
    })
  })
}

const byPosition = (left: RolloutResult, right: RolloutResult) => left.rolloutNumber - right.rolloutNumber

describe('runRollouts: groups and ids', () => {
  it('runs groupSize rollouts per task, each with its task id, sample index and a deterministic rollout id', async () => {
    const run = runRollouts(options({ groupSize: 2 }))
    expect(run.total).toBe(6)
    const results = (await collect(run)).sort(byPosition)
    expect(
      results.map((result) => [result.taskId, result.sampleIndex, result.rolloutId, result.rolloutNumber]),
    ).toEqual([
      ['a', 0, 'a/0', 0],
      ['a', 1, 'a/1', 1],
      [7, 0, '7/0', 2],
      [7, 1, '7/1', 3],
      ['c', 0, 'c/0', 4],
      ['c', 1, 'c/1', 5],
    ])
    expect(results.every((result) => result.status === 'succeeded' && result.attempts === 1)).toBe(true)
    expect(
      results.every((result) => result.records.length === 1 && result.records[0]!.verification.verified),
    ).toBe(true)
    expect(results[0]!.answer).toBe('A short reply.')
    // a second run of the same tasks gives the same ids: a resumed run can match what it already has
    const again = (await collect(runRollouts(options({ groupSize: 2 })))).sort(byPosition)
    expect(again.map((result) => result.rolloutId)).toEqual(results.map((result) => result.rolloutId))
  })

  it('leaves out the rollouts skip names and takes ids from the rolloutId function', async () => {
    const run = runRollouts(
      options({
        groupSize: 2,
        rolloutId: ({ taskId, sampleIndex }) => `run-1:${taskId}:${sampleIndex}`,
        skip: ({ rolloutId }) => rolloutId === 'run-1:a:0' || rolloutId === 'run-1:c:1',
      }),
    )
    expect([run.total, run.skipped]).toEqual([4, 2])
    const ids = (await collect(run)).sort(byPosition).map((result) => result.rolloutId)
    expect(ids).toEqual(['run-1:a:1', 'run-1:7:0', 'run-1:7:1', 'run-1:c:0'])
  })

  it('yields each result as soon as it finishes, not in task order', async () => {
    // the order is set by the consumer, not by timers (which a loaded machine reorders): 7 finishes at once,
    // c only once 7 was yielded, a only once c was; a runner that held results back (for task order, or until
    // all finished) would never yield 7 while a and c run, and the test would end at its own timeout
    const yielded = new Map<string, () => void>()
    const seen = new Map<string, Promise<void>>()
    for (const id of ['a', '7', 'c']) {
      seen.set(id, new Promise<void>((resolve) => yielded.set(id, resolve)))
    }
    const after: Record<string, string | undefined> = { 7: undefined, c: '7', a: 'c' }
    const chained: RolloutFunction = async (context) => {
      const before = after[String(context.task.id)]
      if (before !== undefined) await seen.get(before)
      return singleTurnRollout()(context)
    }
    const order: Array<string | number> = []
    for await (const result of runRollouts(options({ rollout: chained, concurrency: 3 }))) {
      expect(result.status).toBe('succeeded')
      order.push(result.taskId)
      yielded.get(String(result.taskId))?.()
    }
    expect(order).toEqual([7, 'c', 'a'])
  })

  it('never runs more rollouts at once than the concurrency limit', async () => {
    let running = 0
    let most = 0
    const counted: RolloutFunction = async (context) => {
      running += 1
      most = Math.max(most, running)
      try {
        await new Promise((resolve) => setTimeout(resolve, 20))
        return await singleTurnRollout()(context)
      } finally {
        running -= 1
      }
    }
    const results = await collect(runRollouts(options({ rollout: counted, groupSize: 4, concurrency: 3 })))
    expect(results).toHaveLength(12)
    expect(most).toBe(3)
  })
})

describe('runRollouts: isolation and failures', () => {
  it('fails one rollout without touching the others, keeping the records it captured before it threw', async () => {
    const flaky: RolloutFunction = async (context) => {
      const output = await singleTurnRollout()(context)
      if (context.task.id === 7) throw new Error('the environment broke after the model call')
      return output
    }
    const results = (
      await collect(runRollouts(options({ rollout: flaky, retry: { attempts: 3, initialDelayMs: 1 } })))
    ).sort(byPosition)
    expect(results.map((result) => result.status)).toEqual(['succeeded', 'failed', 'succeeded'])
    const failed = results[1]!
    // an error of the agent's own code is not retried: it would fail the same way
    expect(failed.attempts).toBe(1)
    expect(failed.failure).toEqual({
      kind: 'agent',
      source: 'agent',
      message: 'Error: the environment broke after the model call',
      retryable: false,
      statusCode: null,
    })
    expect(failed.records).toHaveLength(1)
    expect(failed.records[0]!.verification.verified).toBe(true)
    // with a verified record the rows have their prompt: no /tokenize needed
    expect(failed.promptTokenIds).toBeNull()
  })

  it('keeps the records and the answer when the reward function throws', async () => {
    const results = await collect(
      runRollouts(
        options({
          tasks: tasks.slice(0, 1),
          reward: () => {
            throw new RangeError('no reward for this one')
          },
        }),
      ),
    )
    expect(results[0]).toMatchObject({
      status: 'failed',
      answer: 'A short reply.',
      reward: null,
      failure: { kind: 'reward', message: 'the reward function threw RangeError: no reward for this one' },
    })
    expect(results[0]!.records).toHaveLength(1)
  })

  it('scores every rollout with the reward function, failed ones included', async () => {
    const seen: Array<[string | number, boolean]> = []
    const rollout: RolloutFunction = async (context) => {
      if (context.task.id === 'c') throw new InvalidTaskError('no environment for task c')
      return singleTurnRollout()(context)
    }
    const results = (
      await collect(
        runRollouts(
          options({
            rollout,
            reward: (task, outcome) => {
              seen.push([task.id, outcome.failure === null])
              return outcome.failure === null ? 1 : 0
            },
          }),
        ),
      )
    ).sort(byPosition)
    expect(results.map((result) => result.reward)).toEqual([1, 1, 0])
    expect(results[2]!.failure).toMatchObject({ kind: 'bad-task', retryable: false })
    expect(seen.sort()).toEqual([
      [7, true],
      ['a', true],
      ['c', false],
    ])
  })

  it('fails a rollout that made no model call through its context', async () => {
    const results = await collect(
      runRollouts(
        options({ tasks: tasks.slice(0, 1), rollout: async () => ({ records: [], answer: 'guessed' }) }),
      ),
    )
    expect(results[0]!.failure).toMatchObject({ kind: 'no-records', retryable: false })
  })

  it('fails a rollout whose function resolves with something that is not a rollout output', async () => {
    const results = await collect(
      runRollouts(
        options({
          tasks: tasks.slice(0, 1),
          rollout: (async () => ({ records: [{ tokenIds: [1] }] })) as unknown as RolloutFunction,
        }),
      ),
    )
    expect(results[0]!.failure?.message).toBe("the rollout function's records[0] is not a TokenRecord")
  })
})

describe('runRollouts: options', () => {
  it('throws InvalidOptionError before anything runs, naming the option or the task field', () => {
    expect(() => runRollouts(options({ groupSize: 0 }))).toThrow(
      new InvalidOptionError(
        'runRollouts',
        'groupSize',
        'option `groupSize` must be an integer from 1 to 100000, got 0',
      ),
    )
    // Node's timers hold at most 2^31 - 1 ms; a longer one fires at once and every attempt would time out
    expect(() => runRollouts(options({ timeoutMs: 2 ** 31 }))).toThrow(
      'option `timeoutMs` must be an integer from 1 to 2147483647, got 2147483648',
    )
    expect(() => runRollouts({ ...options(), concurency: 4 } as RunRolloutsOptions)).toThrow(
      /unknown option `concurency` \(did you mean `concurrency`\?\)/,
    )
    expect(() => runRollouts(options({ tasks: [tasks[0]!, { id: 'a', question: 'again' }] }))).toThrow(
      'runRollouts tasks[1]: task id "a" is also the id of tasks[0]; task ids must be unique (compared as strings)',
    )
    expect(() => runRollouts(options({ tasks: [{ id: 'x' } as unknown as RolloutTask] }))).toThrow(
      'runRollouts tasks[0]: option `question` is required (a string)',
    )
    expect(() => runRollouts(options({ routing: { header: 'bad header' } }))).toThrow(
      /runRollouts routing: option `header` must be an HTTP header name or null/,
    )
    expect(() => runRollouts(options({ rolloutId: () => 'same' }))).toThrow(
      /rollout id "same" of task 7 sample 0 is also task "a" sample 0's; rollout ids must be unique/,
    )
  })

  it('can be iterated once', async () => {
    const run = runRollouts(options({ tasks: tasks.slice(0, 1) }))
    await collect(run)
    expect(() => run[Symbol.asyncIterator]()).toThrow('runRollouts: a run can be iterated once')
  })
})

describe('runRollouts: cancellation by the consumer', () => {
  it('stops the run when the consumer leaves the loop, and runs nothing more', async () => {
    const started: string[] = []
    const rollout: RolloutFunction = async (context) => {
      started.push(String(context.rolloutId))
      return singleTurnRollout()(context)
    }
    const run = runRollouts(options({ rollout, groupSize: 10, concurrency: 1 }))
    let seen = 0
    for await (const _ of run) {
      seen += 1
      if (seen === 2) break
    }
    const startedAtBreak = started.length
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(started.length).toBe(startedAtBreak)
    expect(startedAtBreak).toBeLessThanOrEqual(3)
  })

  it('throws RunCancelledError after the results that finished first when the signal aborts', async () => {
    const controller = new AbortController()
    const rollout: RolloutFunction = async (context) => {
      if (context.task.id !== 'a') await wait(10_000, context.signal)
      return singleTurnRollout()(context)
    }
    const seen: string[] = []
    const failure = await (async () => {
      try {
        for await (const result of runRollouts(
          options({ rollout, concurrency: 3, signal: controller.signal }),
        )) {
          seen.push(String(result.rolloutId))
          controller.abort(new Error('the trainer went away'))
        }
      } catch (error) {
        return error
      }
    })()
    expect(seen).toEqual(['a/0'])
    expect(RunCancelledError.isInstance(failure)).toBe(true)
    expect((failure as RunCancelledError).finished).toBe(1)
    expect((failure as RunCancelledError).cancelled).toBe(2)
    expect((failure as RunCancelledError).message).toBe(
      'the rollout run was cancelled (the trainer went away): 1 rollout(s) finished, 2 not run to the end',
    )
  })

  it('does not wait for a reward function running at the cancel: its signal aborts and the rollout is not yielded', async () => {
    const controller = new AbortController()
    let releaseReward = () => {}
    const rewardHeld = new Promise<void>((resolve) => {
      releaseReward = resolve
    })
    const signals: AbortSignal[] = []
    // a judge that answers only when the test lets it (an LLM judge that hangs): the cancel must not wait for it
    const reward: RunRolloutsOptions['reward'] = async (_task, outcome) => {
      signals.push(outcome.signal)
      controller.abort(new Error('the trainer went away'))
      await rewardHeld
      return 1
    }
    const seen: RolloutResult[] = []
    const run = (async () => {
      for await (const result of runRollouts(
        options({ tasks: tasks.slice(0, 1), reward, signal: controller.signal }),
      )) {
        seen.push(result)
      }
    })()
    const ended = await Promise.race([
      run.then(
        () => 'finished',
        (error: unknown) => error,
      ),
      new Promise((resolve) => setTimeout(() => resolve('still waiting for the reward'), 10_000)),
    ])
    releaseReward()
    await run.catch(() => {})
    expect(RunCancelledError.isInstance(ended) ? (ended as RunCancelledError).cancelled : ended).toBe(1)
    expect(seen).toEqual([])
    expect(signals).toHaveLength(1)
    expect(signals[0]!.aborted).toBe(true)
  })
})
