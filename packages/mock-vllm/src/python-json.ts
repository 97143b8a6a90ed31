/**
 * Python's `json.dumps` with its default separators (`", "` and `": "`), which vLLM uses for mid-stream error
 * events and the hermes parser uses to re-serialise tool arguments. `ensureAscii` mirrors Python's
 * `ensure_ascii` (true by default in Python, false in the hermes parser).
 */
export function pythonJsonDumps(value: unknown, ensureAscii = true): string {
  if (value === null || value === undefined) return 'null'
  if (typeof value === 'string') return quote(value, ensureAscii)
  if (typeof value === 'number')
    return Number.isFinite(value) ? String(value) : value > 0 ? 'Infinity' : 'NaN'
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  if (Array.isArray(value)) return `[${value.map((item) => pythonJsonDumps(item, ensureAscii)).join(', ')}]`
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, item]) => item !== undefined)
    return `{${entries.map(([key, item]) => `${quote(key, ensureAscii)}: ${pythonJsonDumps(item, ensureAscii)}`).join(', ')}}`
  }
  return 'null'
}

function quote(text: string, ensureAscii: boolean): string {
  const quoted = JSON.stringify(text)
  if (!ensureAscii) return quoted
  return quoted.replace(
    /[\u007f-\uffff]/g,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}
