/**
 * Settles with `work`, or rejects with the signal's reason as soon as it aborts (at once when it already has),
 * without stopping `work`: for a wait whose work the caller cannot cancel or must not cancel — code that
 * ignores its signal, or a result several callers share, which one caller's cancel must not take from the
 * others. A later rejection of `work` is swallowed once the wait has ended. Without a signal it is `work`.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work
  work.catch(() => {})
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}
