import { tool } from '@strands-agents/sdk'
import { evaluate } from 'mathjs'

/**
 * Evaluates an arithmetic expression with mathjs (a maintained expression parser): no `eval`, no `Function`.
 * Only finite numeric results are returned; anything else is an error the model sees.
 */
export function evaluateArithmetic(expression: string): string {
  const value: unknown = evaluate(expression)
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new Error(`expression did not evaluate to a finite number: ${expression}`)
  }
  return String(value)
}

/** The calculator tool of strands-vllm's examples. */
export const calculator = tool({
  name: 'calculator',
  description: 'Evaluate an arithmetic expression, e.g. "17 * 23".',
  inputSchema: {
    type: 'object',
    properties: { expression: { type: 'string', description: 'The arithmetic expression to evaluate.' } },
    required: ['expression'],
    additionalProperties: false,
  },
  callback: (input) => evaluateArithmetic((input as { expression: string }).expression),
})
