/**
 * The error text of Python's `json.loads` (CPython 3.12, the C scanner vLLM's images use) for a document that
 * does not parse, e.g. `Expecting ',' delimiter: line 1 column 17 (char 16)`. vLLM puts this text in the 400
 * it answers when a replayed tool call's `arguments` is not JSON, so the mock reproduces it character for
 * character instead of using the wording of JavaScript's `JSON.parse`.
 */
export function pythonJsonError(text: string): string | undefined {
  try {
    const start = skipWhitespace(text, 0)
    let end = scanValue(text, start)
    end = skipWhitespace(text, end)
    if (end !== text.length) throw new DecodeError('Extra data', end)
    return undefined
  } catch (error) {
    if (error instanceof MissingValue) return describe(text, 'Expecting value', error.position)
    if (error instanceof DecodeError) return describe(text, error.reason, error.position)
    throw error
  }
}

/** A value was expected at `position` (Python's `StopIteration`, reported as "Expecting value"). */
class MissingValue {
  constructor(readonly position: number) {}
}

/** Any other decode error (Python's `JSONDecodeError` raised inside the scanner). */
class DecodeError {
  constructor(
    readonly reason: string,
    readonly position: number,
  ) {}
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?/y
const ESCAPES = '"\\/bfnrt'
const HEX = /^[0-9a-fA-F]{4}$/

function isWhitespace(character: string | undefined): boolean {
  return character === ' ' || character === '\t' || character === '\n' || character === '\r'
}

function skipWhitespace(text: string, index: number): number {
  let position = index
  while (isWhitespace(text[position])) position += 1
  return position
}

/** Scans one value starting at `index`; returns the index after it. */
function scanValue(text: string, index: number): number {
  if (index >= text.length) throw new MissingValue(index)
  const character = text[index]
  if (character === '"') return scanString(text, index + 1)
  if (character === '{') return scanObject(text, index + 1)
  if (character === '[') return scanArray(text, index + 1)
  for (const literal of ['null', 'true', 'false', 'NaN', 'Infinity', '-Infinity']) {
    if (text.startsWith(literal, index)) return index + literal.length
  }
  NUMBER.lastIndex = index
  const number = NUMBER.exec(text)
  if (number) return index + number[0].length
  throw new MissingValue(index)
}

/** `index` is just after the opening quote. */
function scanString(text: string, index: number): number {
  const begin = index - 1
  let position = index
  for (;;) {
    while (position < text.length) {
      const code = text.charCodeAt(position)
      if (code === 0x22 || code === 0x5c) break
      if (code <= 0x1f) throw new DecodeError('Invalid control character at', position)
      position += 1
    }
    if (position >= text.length) throw new DecodeError('Unterminated string starting at', begin)
    if (text[position] === '"') return position + 1
    position += 1
    if (position >= text.length) throw new DecodeError('Unterminated string starting at', begin)
    const escaped = text[position]!
    if (escaped !== 'u') {
      if (!ESCAPES.includes(escaped)) throw new DecodeError('Invalid \\escape', position - 1)
      position += 1
      continue
    }
    position = scanUnicodeEscape(text, position)
  }
}

/** `index` is at the `u` of `\uXXXX`; returns the index after the escape (and its low surrogate, if any). */
function scanUnicodeEscape(text: string, index: number): number {
  const end = index + 5
  // the C scanner wants at least one character after the four digits
  if (end >= text.length || !HEX.test(text.slice(index + 1, end))) {
    throw new DecodeError('Invalid \\uXXXX escape', index)
  }
  const unit = Number.parseInt(text.slice(index + 1, end), 16)
  const isHighSurrogate = unit >= 0xd800 && unit <= 0xdbff
  if (isHighSurrogate && end + 6 < text.length && text[end] === '\\' && text[end + 1] === 'u') {
    if (!HEX.test(text.slice(end + 2, end + 6))) throw new DecodeError('Invalid \\uXXXX escape', end + 1)
    const low = Number.parseInt(text.slice(end + 2, end + 6), 16)
    if (low >= 0xdc00 && low <= 0xdfff) return end + 6
  }
  return end
}

/** `index` is just after `{`. */
function scanObject(text: string, index: number): number {
  let position = skipWhitespace(text, index)
  if (text[position] === '}') return position + 1
  for (;;) {
    if (text[position] !== '"') {
      throw new DecodeError('Expecting property name enclosed in double quotes', position)
    }
    position = skipWhitespace(text, scanString(text, position + 1))
    if (text[position] !== ':') throw new DecodeError("Expecting ':' delimiter", position)
    position = skipWhitespace(text, scanValue(text, skipWhitespace(text, position + 1)))
    if (text[position] === '}') return position + 1
    if (text[position] !== ',') throw new DecodeError("Expecting ',' delimiter", position)
    position = skipWhitespace(text, position + 1)
  }
}

/** `index` is just after `[`. */
function scanArray(text: string, index: number): number {
  let position = skipWhitespace(text, index)
  if (text[position] === ']') return position + 1
  for (;;) {
    position = skipWhitespace(text, scanValue(text, position))
    if (text[position] === ']') return position + 1
    if (text[position] !== ',') throw new DecodeError("Expecting ',' delimiter", position)
    position = skipWhitespace(text, position + 1)
  }
}

/** `reason: line L column C (char N)`, counting code points as Python does. */
function describe(text: string, reason: string, position: number): string {
  const before = Array.from(text.slice(0, position))
  const line = before.filter((character) => character === '\n').length + 1
  const column = before.length - before.lastIndexOf('\n')
  return `${reason}: line ${line} column ${column} (char ${before.length})`
}
