import type { Message, StreamOptions } from '@strands-agents/sdk'
import {
  type ChatRequest,
  type CompletionRequest,
  type StreamCallOptions,
  sameIds,
  type TokenInPrompt,
  type TokenInRenderReason,
  type TokenStream,
  type TokenStreamEvent,
} from '@vllm-tito/spec'
import { formatChatMessages } from '../format-chat-messages'
import { completionRequest } from './completion-request'
import {
  type KeptConversation,
  matchHistory,
  messageKey,
  type PromptSettings,
  replyKey,
} from './kept-conversation'
import type { AppendedIds } from './render-delta'
import { type TokenInReply, tokenInEvents } from './reply-events'
import type { TemplateRenderer } from './template-renderer'
import { TokenInError } from './token-in-error'

/** How token-in mode generates: `/v1/completions`, streaming or as the events of one body. */
export type CompleteFunction = (
  request: CompletionRequest,
  streaming: boolean,
  options?: StreamCallOptions,
) => TokenStream

/** One model call in token-in mode. */
export interface TokenInCall {
  /** The conversation the agent passed. */
  messages: readonly Message[]
  /** The SDK's options of the call (system prompt, tools, tool choice, cancel signal). */
  options: StreamOptions | undefined
  /** The call as `/v1/chat/completions` would get it (config and params merged, messages formatted). */
  chat: ChatRequest
  /** Stream the completion (`true`) or read it as one body. */
  streaming: boolean
}

/** The prompt of a call, with how it was built. */
interface BuiltPrompt {
  ids: number[]
  tokenIn: TokenInPrompt
  maxModelLen: number | null
}

/**
 * The state of token-in mode for one model instance (one conversation, as one agent or one RL rollout has):
 * the kept id sequence and the messages it stands for. Each call either appends the template's delta for the
 * new messages to the kept ids, or renders the whole conversation with `/tokenize` and says why in the record;
 * then generates from the ids with `/v1/completions`. The kept state changes only when a call's reply arrived
 * whole, so a failed or retried call appends again from the last good state.
 */
export class TokenInSession {
  readonly #renderer: TemplateRenderer
  readonly #complete: CompleteFunction
  #kept: KeptConversation | undefined
  /** Why the next call must render, when the last reply could not be kept. */
  #lost: { reason: TokenInRenderReason; detail: string } | undefined
  #busy = false

  constructor(renderer: TemplateRenderer, complete: CompleteFunction) {
    this.#renderer = renderer
    this.#complete = complete
  }

  /** Runs one call: the prompt ids, then the completion's events as a chat call of the same reply gives them. */
  async *call(call: TokenInCall): AsyncGenerator<TokenStreamEvent> {
    if (this.#busy) {
      throw new TokenInError(
        'concurrent-call',
        'a token-in VLLMModel keeps one token sequence and runs one call at a time; give each concurrent agent its own VLLMModel',
      )
    }
    this.#busy = true
    try {
      const choice = call.options?.toolChoice
      if (choice !== undefined && !('auto' in choice)) {
        throw new TokenInError(
          'tool-choice',
          'token-in mode cannot force a tool (`toolChoice` any or a named tool): a completion from token ids has no tool choice; use the chat mode for structured output',
        )
      }
      const signal = call.options?.cancelSignal
      const callOptions = signal === undefined ? undefined : { signal }
      const settings = promptSettings(call.chat)
      // one key per message, compared now and kept with the reply for the next call
      const keys = call.messages.map(messageKey)
      const prompt = await this.#buildPrompt(call, settings, keys, callOptions)
      const shape = await this.#renderer.shape(call.chat, callOptions)
      const request = completionRequest({
        chat: call.chat,
        promptIds: prompt.ids,
        endOfTurnId: shape.endOfTurnId,
        maxModelLen: prompt.maxModelLen,
      })
      if (request === undefined) {
        throw new TokenInError(
          'context-length-unknown',
          'the server reported no max_model_len and no maxTokens is set; set maxTokens (completions would stop after 16 tokens)',
        )
      }
      const toolsOffered = Array.isArray(call.chat.tools) && call.chat.tools.length > 0
      const stream = this.#complete(request, call.streaming, callOptions)
      yield* tokenInEvents(stream, { toolsOffered, tokenIn: prompt.tokenIn }, (reply) =>
        this.#keep(reply, keys, settings, prompt),
      )
    } finally {
      this.#busy = false
    }
  }

  async #buildPrompt(
    call: TokenInCall,
    settings: PromptSettings,
    keys: readonly string[],
    options: StreamCallOptions | undefined,
  ): Promise<BuiltPrompt> {
    const kept = this.#kept
    if (this.#lost !== undefined) {
      return this.#renderedPrompt(call, this.#lost.reason, this.#lost.detail, options)
    }
    const match = matchHistory(kept, call.messages, settings, keys)
    if (match.kind === 'render' || kept === undefined) {
      const reason = match.kind === 'render' ? match : { reason: 'first-call' as const, detail: null }
      return this.#renderedPrompt(call, reason.reason, reason.detail, options)
    }
    const shape = await this.#renderer.shape(call.chat, options)
    const delta = await this.#renderer.delta(
      call.chat,
      shape,
      { keptIds: kept.ids, newMessages: formatChatMessages(match.newMessages), toolNames: kept.toolNames },
      options,
    )
    if (delta.kind === 'appended') return appendedPrompt(kept, delta.appended)
    return this.#renderedPrompt(call, 'not-append-only', delta.detail, options)
  }

  async #renderedPrompt(
    call: TokenInCall,
    reason: TokenInRenderReason,
    detail: string | null,
    options: StreamCallOptions | undefined,
  ): Promise<BuiltPrompt> {
    // the probe of a first call, and the fixed prefixes the next call's delta is rendered after, run alongside
    // the render, so they cost no extra round trip
    const [rendered] = await Promise.all([
      this.#renderer.render(call.chat, call.chat.messages, true, options),
      this.#renderer.shape(call.chat, options),
      this.#renderer.prefetchPrefixes(call.chat, options),
    ])
    return {
      ids: rendered.tokenIds,
      tokenIn: { mode: 'rendered', renderReason: reason, detail, keptLength: 0, segments: [] },
      maxModelLen: rendered.maxModelLen,
    }
  }

  /** Keeps the reply as the new end of the sequence, or notes why the next call must render. */
  #keep(
    reply: TokenInReply,
    messageKeys: readonly string[],
    settings: PromptSettings,
    prompt: BuiltPrompt,
  ): void {
    const { record } = reply
    if (
      record.promptTokenIds === null ||
      record.tokenIds === null ||
      !sameIds(record.promptTokenIds, prompt.ids)
    ) {
      this.#kept = undefined
      this.#lost = {
        reason: 'ids-missing',
        detail:
          record.tokenIds === null
            ? 'the previous response carried no token ids'
            : 'the previous response reported other prompt ids than were sent',
      }
      return
    }
    this.#lost = undefined
    this.#kept = {
      settings,
      messageKeys: [...messageKeys],
      replyKey: replyKey(reply.parsed, reply.toolCalls),
      ids: [...record.promptTokenIds, ...record.tokenIds],
      toolNames: new Map(reply.toolCalls.map((toolCall) => [toolCall.id, toolCall.name])),
      maxModelLen: prompt.maxModelLen ?? this.#kept?.maxModelLen ?? null,
    }
  }
}

function appendedPrompt(kept: KeptConversation, appended: AppendedIds): BuiltPrompt {
  const offset = kept.ids.length
  return {
    ids: [...kept.ids, ...appended.ids],
    tokenIn: {
      mode: 'appended',
      renderReason: null,
      detail: null,
      keptLength: offset,
      segments: appended.segments.map((segment) => ({
        ...segment,
        start: segment.start + offset,
        end: segment.end + offset,
      })),
    },
    maxModelLen: appended.maxModelLen ?? kept.maxModelLen,
  }
}

function promptSettings(chat: ChatRequest): PromptSettings {
  const system = chat.messages[0]?.role === 'system' ? chat.messages[0].content : null
  return {
    system: JSON.stringify(system),
    tools: JSON.stringify(chat.tools ?? null),
    templateArguments: JSON.stringify(chat.chat_template_kwargs ?? null),
  }
}
