import { describeValue, InvalidOptionError } from '@vllm-tito/spec'
import { isPromiseLike, type StreamCallback } from './stream-callback'

/**
 * Combines callbacks into one that calls each of them, in the given order, with every event (the analogue of
 * Strands Python's `CompositeCallbackHandler`). A callback that throws does not stop the others, so a failing
 * printer never costs the recorder its record. Errors are not swallowed: once every callback has run, the
 * composed callback throws the error (one failure) or an `AggregateError` holding all of them, in order.
 *
 * When a callback returns a promise, the next one runs only after it settles and the composed callback returns
 * a promise (rejecting as described above); when all are synchronous it stays synchronous.
 *
 * @throws InvalidOptionError (from `@vllm-tito/spec`) when an argument is not a function.
 */
export function composeCallbacks<TEvent>(
  ...callbacks: ReadonlyArray<StreamCallback<TEvent>>
): (event: TEvent) => void | Promise<void> {
  callbacks.forEach((callback, position) => {
    if (typeof callback !== 'function') {
      throw new InvalidOptionError(
        'composeCallbacks',
        `callbacks[${position}]`,
        `argument ${position} is ${describeValue(callback)}, not a function`,
      )
    }
  })
  const list = [...callbacks]
  return (event) => runFrom(list, event, 0, [])
}

function runFrom<TEvent>(
  callbacks: ReadonlyArray<StreamCallback<TEvent>>,
  event: TEvent,
  start: number,
  errors: unknown[],
): void | Promise<void> {
  for (let position = start; position < callbacks.length; position += 1) {
    let result: unknown
    try {
      result = callbacks[position]!(event)
    } catch (error) {
      errors.push(error)
      continue
    }
    if (isPromiseLike(result)) {
      const next = () => runFrom(callbacks, event, position + 1, errors)
      return Promise.resolve(result).then(next, (error: unknown) => {
        errors.push(error)
        return next()
      })
    }
  }
  if (errors.length === 1) throw errors[0]
  if (errors.length > 1) {
    throw new AggregateError(errors, `${errors.length} of ${callbacks.length} composed callbacks failed`)
  }
}
