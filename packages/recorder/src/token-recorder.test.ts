import {
  InvalidOptionError,
  type RecordContext,
  type TaggedTokenRecord,
  type TokenRecord,
  type TokenRecordSink,
  toResponseFields,
} from '@vllm-tito/spec'
import { makeRecord } from '@vllm-tito/spec/testing'
import { afterEach, describe, expect, test, vi } from 'vitest'
import { callEnd, extractTestStop } from './__fixtures__/test-events'
import { MemorySink } from './memory-sink'
import { RecorderError } from './recorder-error'
import { TokenRecorder } from './token-recorder'
import type { TokenRecorderOptions } from './token-recorder-options'
import type { RecordedCall, TokenSpanWriter } from './token-span-writer'

const stopEvent = callEnd

/** A core recorder with the tests' event extractor (see `__fixtures__/test-events.ts`). */
function eventRecorder<TEvent = unknown>(options: TokenRecorderOptions<TEvent> = {}): TokenRecorder<TEvent> {
  return new TokenRecorder<TEvent>({ extractMessageStop: extractTestStop, ...options })
}

function callRecord(index: number): TokenRecord {
  return makeRecord({
    responseId: `chatcmpl-${index}`,
    promptTokenIds: [1, 2, index],
    tokenIds: [index, 151645],
  })
}

/** A span writer that remembers what it was given. */
function spyWriter(): TokenSpanWriter & { calls: Array<[TokenRecord, RecordedCall]> } {
  const calls: Array<[TokenRecord, RecordedCall]> = []
  return { calls, writeSpan: (record, call) => void calls.push([record, call]) }
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('fed directly with client records', () => {
  test('keeps the last ids and the whole history in order (as strands-vllm does)', () => {
    const recorder = eventRecorder()
    expect(recorder.promptTokenIds).toBeNull()
    expect(recorder.tokenIds).toBeNull()
    expect(recorder.history).toEqual([])

    const first = callRecord(11)
    const second = callRecord(12)
    expect(recorder.record(first)).toBe(true)
    expect(recorder.record(second)).toBe(true)

    expect(recorder.history).toEqual([first, second])
    expect(recorder.history[0]).toBe(first)
    expect(recorder.promptTokenIds).toEqual([1, 2, 12])
    expect(recorder.tokenIds).toEqual([12, 151645])
    expect(recorder.lastRecord).toBe(second)
  })

  test('a call without ids never leaves the previous call ids as the last ones', () => {
    const recorder = eventRecorder()
    recorder.record(callRecord(1))
    recorder.record(makeRecord({ promptTokenIds: null, tokenIds: null }))
    expect(recorder.promptTokenIds).toBeNull()
    expect(recorder.tokenIds).toBeNull()
    expect(recorder.history).toHaveLength(2)
  })

  test('the same record object is recorded once', () => {
    const recorder = eventRecorder()
    const record = callRecord(1)
    expect(recorder.record(record)).toBe(true)
    expect(recorder.record(record)).toBe(false)
    expect(recorder.history).toEqual([record])
  })

  test('reset forgets history, last ids and errors; the old history array is kept by its holders', () => {
    const recorder = eventRecorder({
      spanWriter: { writeSpan: () => failWith('span down') },
      onError() {},
    })
    const record = callRecord(1)
    recorder.record(record)
    const before = recorder.history
    expect(recorder.errors).toHaveLength(1)
    recorder.reset()
    expect(recorder.history).toEqual([])
    expect(recorder.promptTokenIds).toBeNull()
    expect(recorder.tokenIds).toBeNull()
    expect(recorder.errors).toEqual([])
    expect(before).toEqual([record])
    // after a reset the same record may be recorded again (a new rollout)
    expect(recorder.record(record)).toBe(true)
  })

  test('works as a TokenRecordObserver (onRecord), passing the context on', () => {
    const seen: RecordContext[] = []
    const recorder = eventRecorder({
      rolloutId: 'r-1',
      observers: [{ onRecord: (_record, context) => void seen.push(context) }],
    })
    const record = callRecord(3)
    recorder.onRecord(record, { agentId: 'a-1' })
    expect(recorder.history).toEqual([record])
    expect(seen).toEqual([{ agentId: 'a-1', rolloutId: 'r-1', callIndex: 0 }])
  })

  test.each([
    [{ tokenIds: [5, 2.5] }, 'tokenIds[1] is 2.5, not a token id (an integer from 0 to 4294967295)'],
    [{ promptTokenIds: [-1] }, 'promptTokenIds[0] is -1, not a token id (an integer from 0 to 4294967295)'],
    [
      { promptTokenIds: ['7'] as unknown as number[] },
      'promptTokenIds[0] is the string "7", not a token id (an integer from 0 to 4294967295)',
    ],
    [{ tokenIds: [2 ** 32] }, 'tokenIds[0] is 4294967296, not a token id (an integer from 0 to 4294967295)'],
    [{ logprobs: [-0.5] }, 'logprobs has 1 entries but tokenIds has 2 (they must align 1:1)'],
  ])('rejects a malformed record %j with a message naming the field', (overrides, message) => {
    const recorder = eventRecorder()
    const record = makeRecord(overrides as Partial<TokenRecord>)
    expect(() => recorder.record(record)).toThrow(message)
    try {
      recorder.record(record)
    } catch (error) {
      expect(RecorderError.isInstance(error)).toBe(true)
      expect((error as RecorderError).source).toBe('record')
    }
    expect(recorder.history).toEqual([])
  })

  test('rejects something that is not a record at all', () => {
    const recorder = eventRecorder()
    expect(() => recorder.record({ tokenIds: [1] } as unknown as TokenRecord)).toThrow(
      'invalid token record: it is not a TokenRecord of schema version 1',
    )
  })
})

describe('options', () => {
  test.each([
    [{ sink: new MemorySink() }, 'a `sink` needs a `rolloutId`'],
    [{ rolloutId: '' }, 'new TokenRecorder: option `rolloutId` must be a string, got the string ""'],
    [{ inner: 'print' }, 'new TokenRecorder: option `inner` must be a function, got the string "print"'],
    [
      { spanWriter: {} },
      'new TokenRecorder: option `spanWriter` must be a TokenSpanWriter (an object with writeSpan(record, call)), got an object',
    ],
    [
      { rolloutID: 'r' },
      'new TokenRecorder: unknown option `rolloutID` (did you mean `rolloutId`?); known options: extractMessageStop, inner, addToSpan, spanWriter, sink, rolloutId, observers, onError',
    ],
  ])('%j is refused with an InvalidOptionError naming the option', (options, message) => {
    expect(() => new TokenRecorder(options as never)).toThrow(message)
    expect(() => new TokenRecorder(options as never)).toThrow(InvalidOptionError)
  })

  test('addToSpan defaults to true and writes through the span writer with the call context', () => {
    const writer = spyWriter()
    const recorder = eventRecorder({ spanWriter: writer, rolloutId: 'rollout-9' })
    expect(recorder.addToSpan).toBe(true)
    const record = callRecord(1)
    recorder.handle(stopEvent(toResponseFields(record), 'agent-3'))
    expect(writer.calls).toEqual([[record, { agentId: 'agent-3', rolloutId: 'rollout-9', callIndex: 0 }]])
  })

  test('addToSpan: false writes no span even with a span writer', () => {
    const writer = spyWriter()
    const recorder = eventRecorder({ spanWriter: writer, addToSpan: false })
    recorder.record(callRecord(1))
    expect(writer.calls).toEqual([])
    expect(recorder.history).toHaveLength(1)
  })
})

describe('as a callback over agent stream events', () => {
  test('records the message-stop record and ignores every other event', () => {
    const recorder = eventRecorder()
    const record = callRecord(4)
    recorder.handle({ type: 'beforeModelCallEvent' })
    recorder.handle({ type: 'modelStreamUpdateEvent', event: { type: 'modelContentBlockStopEvent' } })
    recorder.handle(stopEvent(toResponseFields(record)))
    recorder.handle('not an event')
    recorder.handle(null)
    expect(recorder.history).toEqual([record])
  })

  test('also takes a record given as the fields themselves', () => {
    const recorder = eventRecorder()
    const first = callRecord(1)
    const second = callRecord(2)
    recorder.handle(stopEvent(toResponseFields(first)))
    recorder.handle(stopEvent(second))
    expect(recorder.history).toEqual([first, second])
  })

  test('without an extractor, or when it finds nothing, handle records nothing and still calls inner', () => {
    const inner = vi.fn()
    const record = callRecord(1)
    const plain = new TokenRecorder({ inner })
    plain.handle(stopEvent(toResponseFields(record)))
    plain.handle({
      type: 'modelStreamUpdateEvent',
      event: { type: 'modelMessageStopEvent', additionalModelResponseFields: toResponseFields(record) },
    })
    expect(plain.history).toEqual([])
    expect(inner).toHaveBeenCalledTimes(2)
    const blind = new TokenRecorder({ inner, extractMessageStop: () => undefined })
    blind.handle(stopEvent(toResponseFields(record)))
    expect(blind.history).toEqual([])
    expect(blind.errors).toEqual([])
    expect(inner).toHaveBeenCalledTimes(3)
  })

  test('a message stop from a non-vLLM model (no fields, or other fields) records nothing and reports nothing', () => {
    const onError = vi.fn()
    const recorder = eventRecorder({ onError })
    recorder.handle(stopEvent(undefined))
    recorder.handle(stopEvent({ some: 'thing' }))
    expect(recorder.history).toEqual([])
    expect(onError).not.toHaveBeenCalled()
  })

  test('a malformed token_record is reported (source record), not thrown into the agent loop', () => {
    const errors: RecorderError[] = []
    const recorder = eventRecorder({ onError: (error) => errors.push(error) })
    const broken = { ...toResponseFields(callRecord(1)), token_record: makeRecord({ tokenIds: [1, -4] }) }
    expect(() => recorder.handle(stopEvent(broken))).not.toThrow()
    recorder.handle(stopEvent({ token_record: { schemaVersion: 2 } }))
    expect(recorder.history).toEqual([])
    expect(errors.map((error) => [error.source, error.message])).toEqual([
      [
        'record',
        'TokenRecorder: message-stop event carries an invalid token record: tokenIds[1] is -4, not a token id (an integer from 0 to 4294967295)',
      ],
      [
        'record',
        'TokenRecorder: message-stop event carries an invalid token record: it is not a TokenRecord of schema version 1 (expected an object with schemaVersion: 1, verification and tokenIds)',
      ],
    ])
  })

  test('chains inner with every event, in order, after recording', () => {
    const seen: Array<[string, number]> = []
    const recorder: TokenRecorder<{ type: string }> = eventRecorder({
      inner: (event) => void seen.push([event.type, recorder.history.length]),
    })
    const start = { type: 'beforeModelCallEvent' }
    recorder.handle(start)
    recorder.handle(stopEvent(toResponseFields(callRecord(1))))
    recorder.callback({ type: 'afterModelCallEvent' })
    // inner already sees the record of the stop event it is handed
    expect(seen).toEqual([
      ['beforeModelCallEvent', 0],
      ['call-end', 1],
      ['afterModelCallEvent', 1],
    ])
  })

  test('an inner callback that throws never loses the record; its error propagates unchanged', () => {
    const failure = new Error('printer broke')
    const recorder = eventRecorder({ inner: () => failWith(failure) })
    const record = callRecord(1)
    let thrown: unknown
    try {
      recorder.handle(stopEvent(toResponseFields(record)))
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBe(failure)
    expect(recorder.history).toEqual([record])
  })

  test('an async inner is awaited through the returned promise, and its rejection surfaces', async () => {
    const order: string[] = []
    const recorder = eventRecorder({
      inner: async (event: { type: string }) => {
        await new Promise((resolve) => setTimeout(resolve, 5))
        order.push(event.type)
        if (event.type === 'bad') throw new Error('async inner failed')
      },
    })
    const result = recorder.handle(stopEvent(toResponseFields(callRecord(1))) as { type: string })
    expect(result).toBeInstanceOf(Promise)
    await result
    expect(order).toEqual(['call-end'])
    await expect(recorder.handle({ type: 'bad' })).rejects.toThrow('async inner failed')
    expect(recorder.history).toHaveLength(1)
  })

  test('the same event object handled twice (plugin and stream callback) is recorded and forwarded once', () => {
    const inner = vi.fn()
    const recorder = eventRecorder({ inner })
    const event = stopEvent(toResponseFields(callRecord(1)))
    recorder.handle(event)
    recorder.handle(event)
    expect(recorder.history).toHaveLength(1)
    expect(inner).toHaveBeenCalledTimes(1)
  })
})

describe('sinks and shared-sink tagging', () => {
  test('tags each record with the rollout id and its call index', () => {
    const sink = new MemorySink()
    const recorder = eventRecorder({ sink, rolloutId: 'rollout-a' })
    const first = callRecord(1)
    const second = callRecord(2)
    recorder.record(first)
    recorder.record(second)
    expect(sink.entries).toEqual([
      { rolloutId: 'rollout-a', callIndex: 0, record: first },
      { rolloutId: 'rollout-a', callIndex: 1, record: second },
    ])
  })

  test('reset keeps counting call indexes under the same rollout id, and restarts them under a new one', () => {
    const sink = new MemorySink()
    const recorder = eventRecorder({ sink, rolloutId: 'r-1' })
    recorder.record(callRecord(1))
    recorder.reset()
    recorder.record(callRecord(2))
    recorder.reset({ rolloutId: 'r-2' })
    recorder.record(callRecord(3))
    expect(sink.entries.map((entry) => [entry.rolloutId, entry.callIndex])).toEqual([
      ['r-1', 0],
      ['r-1', 1],
      ['r-2', 0],
    ])
    expect(recorder.rolloutId).toBe('r-2')
    expect(() => recorder.reset({ rolloutId: '' })).toThrow(
      'TokenRecorder.reset: option `rolloutId` must be a string, got the string ""',
    )
  })

  test('an async sink: handle() waits for the write, flush() waits and flushes', async () => {
    const written: TaggedTokenRecord[] = []
    let flushes = 0
    const sink: TokenRecordSink = {
      write: async (entry) => {
        await new Promise((resolve) => setTimeout(resolve, 5))
        written.push(entry)
      },
      flush: async () => {
        flushes += 1
      },
      close: async () => {},
    }
    const recorder = eventRecorder({ sink, rolloutId: 'r' })
    await recorder.handle(stopEvent(toResponseFields(callRecord(1))))
    expect(written).toHaveLength(1)
    recorder.record(callRecord(2))
    expect(written).toHaveLength(1)
    await recorder.flush()
    expect(written.map((entry) => entry.callIndex)).toEqual([0, 1])
    expect(flushes).toBe(1)
  })
})

describe('side-effect failures never lose a record and are surfaced', () => {
  test('span writer, sink and observer failures are reported with their source; the others still run', async () => {
    const errors: RecorderError[] = []
    const observed: TokenRecord[] = []
    const recorder = eventRecorder({
      rolloutId: 'r',
      spanWriter: { writeSpan: () => failWith('exporter down') },
      sink: {
        write: () => failWith('disk full'),
        flush: async () => failWith('flush failed'),
        close: async () => {},
      },
      observers: [
        { onRecord: () => failWith('observer bug') },
        { onRecord: (record) => void observed.push(record) },
      ],
      onError: (error) => errors.push(error),
    })
    const record = callRecord(1)
    expect(recorder.record(record)).toBe(true)
    await recorder.flush()
    expect(recorder.history).toEqual([record])
    expect(observed).toEqual([record])
    expect(errors.map((error) => [error.source, error.message])).toEqual([
      ['span', 'TokenRecorder: span writer failed on call 0: exporter down'],
      ['sink', 'TokenRecorder: sink write failed on call 0: disk full'],
      ['observer', 'TokenRecorder: observer failed on call 0: observer bug'],
      ['sink', 'TokenRecorder: sink flush failed: flush failed'],
    ])
    expect(errors[0]?.cause).toEqual(new Error('exporter down'))
    expect(recorder.errors).toEqual(errors)
  })

  test('a rejected async sink write is reported, and settled() still resolves', async () => {
    const errors: RecorderError[] = []
    const recorder = eventRecorder({
      rolloutId: 'r',
      sink: { write: async () => failWith('remote sink 503'), flush: async () => {}, close: async () => {} },
      onError: (error) => errors.push(error),
    })
    recorder.record(callRecord(1))
    await recorder.settled()
    expect(errors.map((error) => error.message)).toEqual([
      'TokenRecorder: sink write failed on call 0: remote sink 503',
    ])
    expect(recorder.history).toHaveLength(1)
  })

  test('without onError a failure becomes a process warning', () => {
    const emitWarning = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    const recorder = eventRecorder({ spanWriter: { writeSpan: () => failWith('no exporter') } })
    recorder.record(callRecord(1))
    expect(emitWarning).toHaveBeenCalledTimes(1)
    const warning = emitWarning.mock.calls[0]?.[0]
    expect(RecorderError.isInstance(warning)).toBe(true)
    expect((warning as RecorderError).message).toBe(
      'TokenRecorder: span writer failed on call 0: no exporter',
    )
  })
})

function failWith(reason: string | Error): never {
  throw typeof reason === 'string' ? new Error(reason) : reason
}
