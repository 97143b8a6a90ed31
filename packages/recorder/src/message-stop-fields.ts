/**
 * What the recorder takes from the event that ends a model call. The core never knows a framework's event
 * types: an extractor from the framework's subpath (`extractStrandsMessageStop` of
 * `@vllm-tito/recorder/strands`) finds these fields in its events, typed against that framework's own API.
 */

/** The provider's response fields of one model call, and the agent it came from when known. */
export interface MessageStopFields {
  /** The message-stop event's `additionalModelResponseFields` (`undefined` when the provider sent none). */
  fields: unknown
  /** The agent id, when the event came through an agent. */
  agentId?: string
}

/**
 * Finds the {@link MessageStopFields} in one event, or returns `undefined` for an event that does not end a
 * model call. Called for every event the recorder handles, so it must be cheap and must not throw.
 */
export type MessageStopExtractor<TEvent> = (event: TEvent) => MessageStopFields | undefined
