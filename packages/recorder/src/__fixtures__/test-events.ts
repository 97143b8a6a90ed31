import type { MessageStopFields } from '../message-stop-fields'

/**
 * A framework-neutral event for the core recorder's tests: `{ type: 'call-end', fields, agentId? }` ends a
 * model call, any other event does not. The core knows no framework; the tests bring this extractor, as a
 * framework subpath brings its own (`extractStrandsMessageStop`).
 */
export interface TestEvent {
  type: string
  fields?: unknown
  agentId?: string
}

/** The event that ends a model call, carrying the provider's response fields. */
export function callEnd(fields: unknown, agentId = 'agent-7'): TestEvent {
  return { type: 'call-end', fields, agentId }
}

/** Reads {@link callEnd} events; everything else (including non-objects) ends no call. */
export function extractTestStop(event: unknown): MessageStopFields | undefined {
  if (typeof event !== 'object' || event === null) return undefined
  const candidate = event as TestEvent
  if (candidate.type !== 'call-end') return undefined
  return candidate.agentId === undefined
    ? { fields: candidate.fields }
    : { fields: candidate.fields, agentId: candidate.agentId }
}
