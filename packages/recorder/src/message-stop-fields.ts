/**
 * Structural readers for the Strands events that carry a token record. The core must not import the Strands
 * SDK, so these look at the plain `type` discriminators the SDK documents instead of at classes.
 */

/** The `additionalModelResponseFields` of a message-stop event, and the agent it came from when known. */
export interface MessageStopFields {
  /** The message-stop event's `additionalModelResponseFields` (`undefined` when the provider sent none). */
  fields: unknown
  /** The Strands agent id, when the event came through an agent. */
  agentId?: string
}

/**
 * Finds the message-stop fields in a Strands agent stream event (`ModelStreamUpdateEvent` wrapping a
 * `modelMessageStopEvent`, as hooks and `agent.stream()` deliver it) or in a bare model stream event (as
 * `model.stream()` yields it). Returns `undefined` for every other event.
 */
export function findMessageStopFields(event: unknown): MessageStopFields | undefined {
  if (!isObject(event)) return undefined
  if (event.type === 'modelStreamUpdateEvent') {
    const inner = event.event
    if (!isObject(inner) || inner.type !== 'modelMessageStopEvent') return undefined
    const agent = event.agent
    const agentId = isObject(agent) && typeof agent.id === 'string' ? agent.id : undefined
    return agentId === undefined
      ? { fields: inner.additionalModelResponseFields }
      : { fields: inner.additionalModelResponseFields, agentId }
  }
  if (event.type === 'modelMessageStopEvent') return { fields: event.additionalModelResponseFields }
  return undefined
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
}
