import { InvalidOptionError, toResponseFields } from '@vllm-tito/spec'
import { makeRecord } from '@vllm-tito/spec/testing'
import { describe, expect, test } from 'vitest'
import { callEnd, extractTestStop } from './__fixtures__/test-events'
import { composeCallbacks } from './compose-callbacks'
import { TokenRecorder } from './token-recorder'

const stopEvent = (responseId: string) => callEnd(toResponseFields(makeRecord({ responseId })))

describe('composeCallbacks', () => {
  test('calls every callback in the given order and stays synchronous when they are', () => {
    const calls: string[] = []
    const composed = composeCallbacks<number>(
      (event) => calls.push(`a${event}`),
      (event) => calls.push(`b${event}`),
      (event) => calls.push(`c${event}`),
    )
    expect(composed(1)).toBeUndefined()
    composed(2)
    expect(calls).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'c2'])
  })

  test('a printer that throws before the recorder never loses the record; its error is rethrown as is', () => {
    const recorder = new TokenRecorder({ extractMessageStop: extractTestStop })
    const failure = new Error('stdout closed')
    const printer = () => {
      throw failure
    }
    const composed = composeCallbacks(printer, recorder.callback)
    let thrown: unknown
    try {
      composed(stopEvent('chatcmpl-42'))
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBe(failure)
    expect(recorder.history.map((record) => record.responseId)).toEqual(['chatcmpl-42'])
  })

  test('several failures become one AggregateError, in callback order, after all callbacks ran', () => {
    const ran: number[] = []
    const first = new Error('first')
    const third = new Error('third')
    const composed = composeCallbacks(
      () => {
        ran.push(1)
        throw first
      },
      () => ran.push(2),
      () => {
        ran.push(3)
        throw third
      },
    )
    let thrown: unknown
    try {
      composed('event')
    } catch (error) {
      thrown = error
    }
    expect(ran).toEqual([1, 2, 3])
    expect(thrown).toBeInstanceOf(AggregateError)
    expect((thrown as AggregateError).message).toBe('2 of 3 composed callbacks failed')
    expect((thrown as AggregateError).errors).toEqual([first, third])
  })

  test('an async callback is awaited before the next one runs, keeping the order', async () => {
    const calls: string[] = []
    const composed = composeCallbacks<string>(
      async (event) => {
        await new Promise((resolve) => setTimeout(resolve, 10))
        calls.push(`slow ${event}`)
      },
      (event) => calls.push(`fast ${event}`),
    )
    const result = composed('x')
    expect(result).toBeInstanceOf(Promise)
    expect(calls).toEqual([])
    await result
    expect(calls).toEqual(['slow x', 'fast x'])
  })

  test('a rejecting async callback does not stop the rest; the composed promise rejects with it', async () => {
    const recorder = new TokenRecorder({ extractMessageStop: extractTestStop })
    const composed = composeCallbacks(async () => {
      throw new Error('async printer failed')
    }, recorder.callback)
    await expect(composed(stopEvent('chatcmpl-7'))).rejects.toThrow('async printer failed')
    expect(recorder.history.map((record) => record.responseId)).toEqual(['chatcmpl-7'])
  })

  test('sync and async failures are collected together', async () => {
    const composed = composeCallbacks(
      () => {
        throw new Error('sync')
      },
      async () => {
        throw new Error('async')
      },
    )
    const rejection = await (composed(0) as Promise<void>).catch((error: unknown) => error)
    expect((rejection as AggregateError).errors.map((error: Error) => error.message)).toEqual([
      'sync',
      'async',
    ])
  })

  test('composing nothing gives a callback that does nothing', () => {
    expect(composeCallbacks()('event')).toBeUndefined()
  })

  test('refuses a non-function argument, naming its position', () => {
    expect(() => composeCallbacks(() => {}, null as never)).toThrow(
      'composeCallbacks: argument 1 is null, not a function',
    )
    const error = (() => {
      try {
        composeCallbacks('print' as never)
      } catch (caught) {
        return caught
      }
    })()
    expect(InvalidOptionError.isInstance(error)).toBe(true)
    expect((error as InvalidOptionError).option).toBe('callbacks[0]')
    expect((error as Error).message).toBe(
      'composeCallbacks: argument 0 is the string "print", not a function',
    )
  })
})
