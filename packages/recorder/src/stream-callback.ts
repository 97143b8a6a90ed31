/**
 * A function called with each event of an agent's stream: the TypeScript analogue of a Strands Python
 * `callback_handler`. It may return a promise; composers and the recorder then wait for it before going on.
 * The return value is otherwise ignored, so `console.log` or `(event) => events.push(event)` fit.
 */
export type StreamCallback<TEvent> = (event: TEvent) => unknown

/** `true` for promises and other thenables, which callbacks may return. */
export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}
