import {
  type RecordContext,
  type TaggedTokenRecord,
  type TokenRecord,
  type TokenRecordSink,
  toResponseFields,
} from '@vllm-tito/spec'
import { makeRecord } from '@vllm-tito/spec/testing'
import { afterEach, describe, expect, test, vi } from 'vitest'
import { MemorySink } from './memory-sink'
import { RecorderError } from './recorder-error'
import type { RecordedCall, TokenSpanWriter } from './token-span-writer'
import { VLLMTokenRecorder } from './vllm-token-recorder'

/** A Strands-shaped agent stream event (what hooks and `agent.stream()` deliver) carrying `record`. */
function stopEvent(fields: unknown, agentId = 'agent-7') {
  return {
    type: 'modelStreamUpdateEvent',
    agent: { id: agentId },
    event: { type: 'modelMessageStopEvent', stopReason: 'endTurn', additionalModelResponseFields: fields },
  }
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
  test('keeps the last ids and the whole history in order (seed parity)', () => {
    const recorder = new VLLMTokenRecorder()
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
    const recorder = new VLLMTokenRecorder()
    recorder.record(callRecord(1))
    recorder.record(makeRecord({ promptTokenIds: null, tokenIds: null }))
    expect(recorder.promptTokenIds).toBeNull()
    expect(recorder.tokenIds).toBeNull()
    expect(recorder.history).toHaveLength(2)
  })

  test('the same record object is recorded once', () => {
    const recorder = new VLLMTokenRecorder()
    const record = callRecord(1)
    expect(recorder.record(record)).toBe(true)
    expect(recorder.record(record)).toBe(false)
    expect(recorder.history).toEqual([record])
  })

  test('reset forgets history, last ids and errors; the old history array is kept by its holders', () => {
    const recorder = new VLLMTokenRecorder({
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
    const recorder = new VLLMTokenRecorder({
      rolloutId: 'r-1',
      observers: [{ onRecord: (_record, context) => void seen.push(context) }],
    })
    const record = callRecord(3)
    recorder.onRecord(record, { agentId: 'a-1' })
    expect(recorder.history).toEqual([record])
    expect(seen).toEqual([{ agentId: 'a-1', rolloutId: 'r-1', callIndex: 0 }])
  })

  test.each([
    [{ tokenIds: [5, 2.5] }, 'tokenIds[1] is 2.5, not a non-negative integer token id'],
    [{ promptTokenIds: [-1] }, 'promptTokenIds[0] is -1, not a non-negative integer token id'],
    [
      { promptTokenIds: ['7'] as unknown as number[] },
      'promptTokenIds[0] is "7", not a non-negative integer',
    ],
    [{ logprobs: [-0.5] }, 'logprobs has 1 entries but tokenIds has 2 (they must align 1:1)'],
  ])('rejects a malformed record %j with a message naming the field', (overrides, message) => {
    const recorder = new VLLMTokenRecorder()
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
    const recorder = new VLLMTokenRecorder()
    expect(() => recorder.record({ tokenIds: [1] } as unknown as TokenRecord)).toThrow(
      'invalid token record: it is not a TokenRecord of schema version 1',
    )
  })
})

describe('options', () => {
  test.each([
    [{ sink: new MemorySink() }, 'a `sink` needs a `rolloutId`'],
    [{ rolloutId: '' }, '`rolloutId` must be a non-empty string'],
    [{ inner: 'print' }, '`inner` must be a function'],
    [{ spanWriter: {} }, '`spanWriter` must have a writeSpan(record, call) method'],
  ])('%j is refused with a clear message', (options, message) => {
    expect(() => new VLLMTokenRecorder(options as never)).toThrow(message)
  })

  test('addToSpan defaults to true and writes through the span writer with the call context', () => {
    const writer = spyWriter()
    const recorder = new VLLMTokenRecorder({ spanWriter: writer, rolloutId: 'rollout-9' })
    expect(recorder.addToSpan).toBe(true)
    const record = callRecord(1)
    recorder.handle(stopEvent(toResponseFields(record), 'agent-3'))
    expect(writer.calls).toEqual([[record, { agentId: 'agent-3', rolloutId: 'rollout-9', callIndex: 0 }]])
  })

  test('addToSpan: false writes no span even with a span writer', () => {
    const writer = spyWriter()
    const recorder = new VLLMTokenRecorder({ spanWriter: writer, addToSpan: false })
    recorder.record(callRecord(1))
    expect(writer.calls).toEqual([])
    expect(recorder.history).toHaveLength(1)
  })
})

describe('as a callback over agent stream events', () => {
  test('records the message-stop record and ignores every other event', () => {
    const recorder = new VLLMTokenRecorder()
    const record = callRecord(4)
    recorder.handle({ type: 'beforeModelCallEvent' })
    recorder.handle({ type: 'modelStreamUpdateEvent', event: { type: 'modelContentBlockStopEvent' } })
    recorder.handle(stopEvent(toResponseFields(record)))
    recorder.handle('not an event')
    recorder.handle(null)
    expect(recorder.history).toEqual([record])
  })

  test('also takes a bare model message-stop event and a record given as the fields themselves', () => {
    const recorder = new VLLMTokenRecorder()
    const first = callRecord(1)
    const second = callRecord(2)
    recorder.handle({
      type: 'modelMessageStopEvent',
      stopReason: 'endTurn',
      additionalModelResponseFields: toResponseFields(first),
    })
    recorder.handle(stopEvent(second))
    expect(recorder.history).toEqual([first, second])
  })

  test('a message stop from a non-vLLM model (no fields, or other fields) records nothing and reports nothing', () => {
    const onError = vi.fn()
    const recorder = new VLLMTokenRecorder({ onError })
    recorder.handle(stopEvent(undefined))
    recorder.handle(stopEvent({ some: 'thing' }))
    expect(recorder.history).toEqual([])
    expect(onError).not.toHaveBeenCalled()
  })

  test('a malformed token_record is reported (source record), not thrown into the agent loop', () => {
    const errors: RecorderError[] = []
    const recorder = new VLLMTokenRecorder({ onError: (error) => errors.push(error) })
    const broken = { ...toResponseFields(callRecord(1)), token_record: makeRecord({ tokenIds: [1, -4] }) }
    expect(() => recorder.handle(stopEvent(broken))).not.toThrow()
    recorder.handle(stopEvent({ token_record: { schemaVersion: 2 } }))
    expect(recorder.history).toEqual([])
    expect(errors.map((error) => [error.source, error.message])).toEqual([
      [
        'record',
        'VLLMTokenRecorder: message-stop event carries an invalid token record: tokenIds[1] is -4, not a non-negative integer token id',
      ],
      [
        'record',
        'VLLMTokenRecorder: message-stop event carries an invalid token record: it is not a TokenRecord of schema version 1 (expected an object with schemaVersion: 1, verification and tokenIds)',
      ],
    ])
  })

  test('chains inner with every event, in order, after recording', () => {
    const seen: Array<[string, number]> = []
    const recorder: VLLMTokenRecorder<{ type: string }> = new VLLMTokenRecorder({
      inner: (event) => void seen.push([event.type, recorder.history.length]),
    })
    const start = { type: 'beforeModelCallEvent' }
    recorder.handle(start)
    recorder.handle(stopEvent(toResponseFields(callRecord(1))))
    recorder.callback({ type: 'afterModelCallEvent' })
    // inner already sees the record of the stop event it is handed
    expect(seen).toEqual([
      ['beforeModelCallEvent', 0],
      ['modelStreamUpdateEvent', 1],
      ['afterModelCallEvent', 1],
    ])
  })

  test('an inner callback that throws never loses the record; its error propagates unchanged', () => {
    const failure = new Error('printer broke')
    const recorder = new VLLMTokenRecorder({ inner: () => failWith(failure) })
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
    const recorder = new VLLMTokenRecorder({
      inner: async (event: { type: string }) => {
        await new Promise((resolve) => setTimeout(resolve, 5))
        order.push(event.type)
        if (event.type === 'bad') throw new Error('async inner failed')
      },
    })
    const result = recorder.handle(stopEvent(toResponseFields(callRecord(1))) as { type: string })
    expect(result).toBeInstanceOf(Promise)
    await result
    expect(order).toEqual(['modelStreamUpdateEvent'])
    await expect(recorder.handle({ type: 'bad' })).rejects.toThrow('async inner failed')
    expect(recorder.history).toHaveLength(1)
  })

  test('the same event object handled twice (plugin and stream callback) is recorded and forwarded once', () => {
    const inner = vi.fn()
    const recorder = new VLLMTokenRecorder({ inner })
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
    const recorder = new VLLMTokenRecorder({ sink, rolloutId: 'rollout-a' })
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
    const recorder = new VLLMTokenRecorder({ sink, rolloutId: 'r-1' })
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
    expect(() => recorder.reset({ rolloutId: '' })).toThrow('`rolloutId` must be a non-empty string')
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
    const recorder = new VLLMTokenRecorder({ sink, rolloutId: 'r' })
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
    const recorder = new VLLMTokenRecorder({
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
      ['span', 'VLLMTokenRecorder: span writer failed on call 0: exporter down'],
      ['sink', 'VLLMTokenRecorder: sink write failed on call 0: disk full'],
      ['observer', 'VLLMTokenRecorder: observer failed on call 0: observer bug'],
      ['sink', 'VLLMTokenRecorder: sink flush failed: flush failed'],
    ])
    expect(errors[0]?.cause).toEqual(new Error('exporter down'))
    expect(recorder.errors).toEqual(errors)
  })

  test('a rejected async sink write is reported, and settled() still resolves', async () => {
    const errors: RecorderError[] = []
    const recorder = new VLLMTokenRecorder({
      rolloutId: 'r',
      sink: { write: async () => failWith('remote sink 503'), flush: async () => {}, close: async () => {} },
      onError: (error) => errors.push(error),
    })
    recorder.record(callRecord(1))
    await recorder.settled()
    expect(errors.map((error) => error.message)).toEqual([
      'VLLMTokenRecorder: sink write failed on call 0: remote sink 503',
    ])
    expect(recorder.history).toHaveLength(1)
  })

  test('without onError a failure becomes a process warning', () => {
    const emitWarning = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    const recorder = new VLLMTokenRecorder({ spanWriter: { writeSpan: () => failWith('no exporter') } })
    recorder.record(callRecord(1))
    expect(emitWarning).toHaveBeenCalledTimes(1)
    const warning = emitWarning.mock.calls[0]?.[0]
    expect(RecorderError.isInstance(warning)).toBe(true)
    expect((warning as RecorderError).message).toBe(
      'VLLMTokenRecorder: span writer failed on call 0: no exporter',
    )
  })
})

function failWith(reason: string | Error): never {
  throw typeof reason === 'string' ? new Error(reason) : reason
}
