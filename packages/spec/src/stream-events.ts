import type { FinishReason, TokenRecord, TokenUsage, TopLogprob } from './token-record'

/**
 * The events of a streaming call, in arrival order, as a discriminated union on `type`.
 * Every event of one choice carries its `choiceIndex`; `response-end` closes the stream.
 */
export type TokenStreamEvent =
  | ResponseStartEvent
  | TextDeltaEvent
  | ReasoningDeltaEvent
  | ToolCallDeltaEvent
  | TokenDeltaEvent
  | ChoiceEndEvent
  | UsageEvent
  | ResponseEndEvent

/** The first chunk arrived. */
export interface ResponseStartEvent {
  type: 'response-start'
  /** Response id (`chatcmpl-…` / `cmpl-…`). */
  responseId: string
  /** Model name the server reported. */
  model: string
  /** Prompt ids from the first chunk, or `null` when the server sent none. For completions: choice 0's. */
  promptTokenIds: number[] | null
}

/** Assistant text arrived (`delta.content` / completion `text`). */
export interface TextDeltaEvent {
  type: 'text-delta'
  choiceIndex: number
  /** The new text of this chunk. */
  text: string
}

/** Reasoning text arrived (`delta.reasoning` or `delta.reasoning_content`). */
export interface ReasoningDeltaEvent {
  type: 'reasoning-delta'
  choiceIndex: number
  /** The new reasoning text of this chunk. */
  text: string
}

/** A tool-call fragment arrived (`delta.tool_calls[]`). */
export interface ToolCallDeltaEvent {
  type: 'tool-call-delta'
  choiceIndex: number
  /** `tool_calls[].index`: which call of the choice this fragment belongs to. */
  toolCallIndex: number
  /** Call id, on the first fragment of a call only. */
  id?: string
  /** Function name, on the first fragment of a call only. */
  name?: string
  /** The new arguments text of this fragment (may be empty). */
  argumentsDelta: string
}

/** Token ids arrived (`choices[].token_ids`), with their logprobs when requested. */
export interface TokenDeltaEvent {
  type: 'token-delta'
  choiceIndex: number
  /** The ids of this chunk only (one decoding step, possibly several tokens). */
  tokenIds: number[]
  /** Logprobs aligned with `tokenIds`, or `null` when not requested or not aligned. */
  logprobs: Array<number | null> | null
  /** Top alternatives per id, or `null`. */
  topLogprobs: TopLogprob[][] | null
}

/** A choice finished (`finish_reason` arrived). */
export interface ChoiceEndEvent {
  type: 'choice-end'
  choiceIndex: number
  finishReason: FinishReason
  /** `stop_reason`: `null` (EOS), a token id, or a stop string. */
  stopReason: number | string | null
}

/** Usage arrived (the trailing `choices: []` chunk, or cumulative with `continuous_usage_stats`). */
export interface UsageEvent {
  type: 'usage'
  usage: TokenUsage
}

/** The stream ended (`data: [DONE]`); the records are final and verified. */
export interface ResponseEndEvent {
  type: 'response-end'
  /** One record per choice, in choice order. */
  records: TokenRecord[]
}
