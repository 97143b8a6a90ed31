import { badRequest } from './vllm-errors'

/** Typed readers of request-body fields: a wrong type is a 400 naming the field, as vLLM's validation does. */
export class RequestFields {
  constructor(readonly body: Record<string, unknown>) {}

  optionalBoolean(name: string): boolean | undefined {
    const value = this.body[name]
    if (value === undefined || value === null) return undefined
    if (typeof value !== 'boolean')
      throw badRequest(`${name}: Input should be a valid boolean, got ${show(value)}`)
    return value
  }

  optionalInteger(name: string, minimum?: number): number | undefined {
    const value = this.body[name]
    if (value === undefined || value === null) return undefined
    if (!Number.isInteger(value))
      throw badRequest(`${name}: Input should be a valid integer, got ${show(value)}`)
    if (minimum !== undefined && (value as number) < minimum) {
      throw badRequest(`${name} must be at least ${minimum}, got ${value}.`, name)
    }
    return value as number
  }

  optionalObject(name: string): Record<string, unknown> | undefined {
    const value = this.body[name]
    if (value === undefined || value === null) return undefined
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw badRequest(`${name}: Input should be a valid dictionary, got ${show(value)}`)
    }
    return value as Record<string, unknown>
  }

  stopStrings(): string[] {
    const value = this.body.stop
    if (value === undefined || value === null) return []
    if (typeof value === 'string') return [value]
    if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value as string[]
    throw badRequest(`stop: Input should be a valid string or list of strings, got ${show(value)}`)
  }

  stopTokenIds(): number[] {
    const value = this.body.stop_token_ids
    if (value === undefined || value === null) return []
    if (Array.isArray(value) && value.every((item) => Number.isInteger(item))) return value as number[]
    throw badRequest(`stop_token_ids: Input should be a valid list of integers, got ${show(value)}`)
  }
}

function show(value: unknown): string {
  const text = JSON.stringify(value)
  return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 77)}...` : text
}
