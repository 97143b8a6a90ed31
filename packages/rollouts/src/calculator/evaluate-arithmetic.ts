/** The longest expression accepted, in characters. */
const MAX_LENGTH = 500
/** The deepest nesting of parentheses and unary signs accepted. */
const MAX_DEPTH = 64

/** An expression the calculator cannot evaluate; the message names the position and the problem. */
export class ArithmeticError extends Error {
  override readonly name = 'ArithmeticError'
}

/**
 * Evaluates an arithmetic expression: decimal numbers, `+ - * /`, `^` or `**` (power, right-associative),
 * `%` (remainder), unary signs and parentheses; `×` and `÷` are read as `*` and `/`. A small recursive-descent
 * parser: nothing is handed to `eval` or `Function`, and nothing but arithmetic is understood.
 *
 * @throws ArithmeticError for anything else, or a result that is not a finite number.
 */
export function evaluateArithmetic(expression: string): number {
  if (typeof expression !== 'string') throw new ArithmeticError('the expression must be a string')
  if (expression.length > MAX_LENGTH)
    throw new ArithmeticError(`the expression is longer than ${MAX_LENGTH} characters`)
  const parser = new Parser(expression.replace(/×/g, '*').replace(/÷/g, '/'))
  const value = parser.parse()
  if (!Number.isFinite(value)) throw new ArithmeticError(`${expression} does not evaluate to a finite number`)
  return value
}

/**
 * `sum := product (('+' | '-') product)*`, `product := unary (('*' | '/' | '%') unary)*`,
 * `unary := ('-' | '+') unary | power`, `power := atom (('^' | '**') unary)?`, `atom := number | '(' sum ')'`.
 */
class Parser {
  readonly #text: string
  #position = 0
  #depth = 0

  constructor(text: string) {
    this.#text = text
  }

  parse(): number {
    const value = this.#sum()
    this.#skipSpace()
    if (this.#position < this.#text.length)
      this.#fail(`unexpected ${JSON.stringify(this.#text[this.#position])}`)
    return value
  }

  #sum(): number {
    let value = this.#product()
    for (;;) {
      if (this.#take('+')) value += this.#product()
      else if (this.#take('-')) value -= this.#product()
      else return value
    }
  }

  #product(): number {
    let value = this.#unary()
    for (;;) {
      if (this.#peek('**')) return value
      if (this.#take('*')) value *= this.#unary()
      else if (this.#take('/')) value /= this.#unary()
      else if (this.#take('%')) value %= this.#unary()
      else return value
    }
  }

  #unary(): number {
    if (this.#take('-')) return -this.#nested(() => this.#unary())
    if (this.#take('+')) return this.#nested(() => this.#unary())
    return this.#power()
  }

  #power(): number {
    const base = this.#atom()
    // the exponent may carry a sign (2 ^ -1); the power binds tighter than a leading sign (-2 ^ 2 = -4)
    if (this.#take('^') || this.#take('**')) return base ** this.#nested(() => this.#unary())
    return base
  }

  #atom(): number {
    if (this.#take('(')) {
      const value = this.#nested(() => this.#sum())
      if (!this.#take(')')) this.#fail('missing )')
      return value
    }
    this.#skipSpace()
    const match = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?/.exec(this.#text.slice(this.#position))
    if (match === null) {
      this.#fail(this.#position >= this.#text.length ? 'the expression ends too early' : `expected a number`)
    }
    this.#position += match[0].length
    return Number(match[0])
  }

  #nested(parse: () => number): number {
    this.#depth += 1
    if (this.#depth > MAX_DEPTH) this.#fail(`nested deeper than ${MAX_DEPTH} levels`)
    const value = parse()
    this.#depth -= 1
    return value
  }

  #take(token: string): boolean {
    this.#skipSpace()
    if (!this.#text.startsWith(token, this.#position)) return false
    this.#position += token.length
    return true
  }

  #peek(token: string): boolean {
    this.#skipSpace()
    return this.#text.startsWith(token, this.#position)
  }

  #skipSpace(): void {
    while (this.#position < this.#text.length && /\s/.test(this.#text[this.#position]!)) this.#position += 1
  }

  #fail(problem: string): never {
    throw new ArithmeticError(
      `cannot evaluate ${JSON.stringify(this.#text)}: ${problem} at position ${this.#position}`,
    )
  }
}
