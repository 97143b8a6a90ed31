import {
  type AgentStreamEvent,
  ModelMessageStopEvent,
  type ModelStreamEvent,
  ModelStreamUpdateEvent,
} from '@strands-agents/sdk'
import type { MessageStopFields } from '../message-stop-fields'

/**
 * Finds the token record's fields in a Strands event: a `ModelStreamUpdateEvent` wrapping a message-stop
 * model event (as hooks and `agent.stream()` deliver it; the agent's id comes along), or a bare
 * `ModelMessageStopEvent`. Returns `undefined` for every other event.
 *
 * It checks the SDK's own classes and the `type` of its `ModelStreamEvent` union, so a rename in the SDK
 * fails this package's type check instead of silently recording nothing.
 */
export function extractStrandsMessageStop(
  event: AgentStreamEvent | ModelStreamEvent,
): MessageStopFields | undefined {
  if (event instanceof ModelStreamUpdateEvent) {
    const inner = event.event
    if (inner.type !== 'modelMessageStopEvent') return undefined
    return { fields: inner.additionalModelResponseFields, agentId: event.agent.id }
  }
  if (event instanceof ModelMessageStopEvent) return { fields: event.additionalModelResponseFields }
  return undefined
}
