import { describeValue } from '@vllm-tito/spec'

/**
 * `undefined` when `value` survives `JSON.stringify` unchanged (null, booleans, strings, finite numbers,
 * arrays and plain objects of those), otherwise a sentence naming the first value that would be dropped,
 * turned into `null` or make serialisation throw: `NaN`/`Infinity`, `undefined`, functions, bigints, class
 * instances (a `Date` would silently become a string), or a cycle.
 */
export function findJsonProblem(value: unknown, path: string): string | undefined {
  return check(value, path, new Set())
}

function check(value: unknown, path: string, open: Set<object>): string | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined
  if (typeof value === 'number') {
    return Number.isFinite(value)
      ? undefined
      : `${path} is ${value}, which JSON cannot carry (it would be sent as null)`
  }
  if (typeof value !== 'object') {
    return `${path} is ${describeValue(value)}, which JSON cannot carry`
  }
  if (open.has(value)) return `${path} refers back to an object that contains it (a cycle)`
  const prototype = Object.getPrototypeOf(value)
  const isArray = Array.isArray(value)
  if (!isArray && prototype !== Object.prototype && prototype !== null) {
    const kind = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object'
    return `${path} is a ${kind}, not plain JSON (use strings, numbers, booleans, arrays and plain objects)`
  }
  open.add(value)
  try {
    if (isArray) {
      for (let index = 0; index < value.length; index += 1) {
        const entry: unknown = value[index]
        const problem =
          entry === undefined
            ? `${path}[${index}] is undefined (it would be sent as null)`
            : check(entry, `${path}[${index}]`, open)
        if (problem !== undefined) return problem
      }
      return undefined
    }
    for (const [key, entry] of Object.entries(value)) {
      const entryPath = `${path}.${key}`
      const problem =
        entry === undefined
          ? `${entryPath} is undefined (it would be left out)`
          : check(entry, entryPath, open)
      if (problem !== undefined) return problem
    }
    return undefined
  } finally {
    open.delete(value)
  }
}
