import {
  type ChatMessage,
  type ChatRequest,
  type ChatTemplateInput,
  type RenderedChatTemplate,
  type StreamCallOptions,
  untilAborted,
} from '@vllm-tito/spec'
import { type ChatTemplateShape, probeChatTemplate } from './probe-chat-template'
import { type DeltaResult, FIXED_PREFIX, renderDelta } from './render-delta'

/** `POST /tokenize` in chat form. */
export type TokenizeFunction = (
  input: ChatTemplateInput,
  options?: StreamCallOptions,
) => Promise<RenderedChatTemplate>

/**
 * What rendering learnt about one server's chat template, worth keeping across model instances: the probe's
 * result per set of template arguments, the fixed prefix's render per set of tools and template arguments,
 * and whether those tools change how new messages render.
 */
export interface TemplateCache {
  shapes: Map<string, Promise<ChatTemplateShape>>
  prefixes: Map<string, Promise<RenderedChatTemplate>>
  /** Per set of tools and template arguments: `true` when new messages render the same without the tools. */
  toolsNeutral: Map<string, boolean>
}

const sharedCaches = new Map<string, TemplateCache>()
const MAX_SHARED_CACHES = 64
const MAX_PREFIX_RENDERS = 16

/**
 * The cache of the server and model behind `key` (`<server root> <model>`), shared by every model instance
 * of the process that renders there; a cache of its own without a key (a client that names no server).
 */
export function templateCacheFor(key: string | undefined): TemplateCache {
  const fresh = (): TemplateCache => ({ shapes: new Map(), prefixes: new Map(), toolsNeutral: new Map() })
  if (key === undefined) return fresh()
  let cache = sharedCaches.get(key)
  if (cache === undefined) {
    if (sharedCaches.size >= MAX_SHARED_CACHES) sharedCaches.delete(sharedCaches.keys().next().value!)
    cache = fresh()
    sharedCaches.set(key, cache)
  }
  return cache
}

/** The new messages of a delta and what they follow. */
export interface DeltaInput {
  keptIds: readonly number[]
  newMessages: ChatMessage[]
  toolNames: ReadonlyMap<string, string>
}

/**
 * Renders with the server's chat template for token-in mode: whole conversations (with the call's tools and
 * template arguments), the probe, and the deltas of new messages. A delta is rendered without the tools when
 * they only shape the system block, which is checked once per set of tools on real messages: the first delta
 * is rendered both ways and compared (the one with tools is used); a later one with tools only if they
 * differed. Renders that can be reused go to the {@link TemplateCache}; failed ones do not. A cached render
 * is shared by every model of the process that renders at the same server, so it is not tied to the signal of
 * the call that started it: each caller stops waiting when its own signal aborts, and the render goes on for
 * the others (bounded by the client's own timeout).
 */
export class TemplateRenderer {
  readonly #tokenize: TokenizeFunction
  readonly #cache: TemplateCache

  constructor(tokenize: TokenizeFunction, cache: TemplateCache) {
    this.#tokenize = tokenize
    this.#cache = cache
  }

  /** The conversation as the chat endpoint renders it, tools included. */
  render(
    chat: ChatRequest,
    messages: ChatMessage[],
    addGenerationPrompt: boolean,
    options: StreamCallOptions | undefined,
    withTools = true,
  ): Promise<RenderedChatTemplate> {
    const tools = withTools && hasTools(chat) ? { tools: chat.tools! } : {}
    return this.#tokenize(
      { model: chat.model, messages, addGenerationPrompt, ...tools, ...templateArguments(chat) },
      options,
    )
  }

  /** The template's shape for the call's template arguments, probed once per set of them. */
  shape(chat: ChatRequest, options: StreamCallOptions | undefined): Promise<ChatTemplateShape> {
    const key = JSON.stringify(chat.chat_template_kwargs ?? null)
    const shared = remember(this.#cache.shapes, key, () =>
      probeChatTemplate((messages, addGenerationPrompt) =>
        this.#tokenize({
          model: chat.model,
          messages,
          addGenerationPrompt,
          returnTokenStrings: true,
          ...templateArguments(chat),
        }),
      ),
    )
    return untilAborted(shared, options?.signal)
  }

  /** Renders the fixed prefixes the next delta needs, so a first call pays for them in its own round trip. */
  async prefetchPrefixes(chat: ChatRequest, options: StreamCallOptions | undefined): Promise<void> {
    const neutral = this.#cache.toolsNeutral.get(settingsKey(chat))
    const variants =
      !hasTools(chat) || neutral === true ? [false] : neutral === false ? [true] : [true, false]
    await Promise.all(variants.map((withTools) => this.#fixedPrefix(chat, withTools, options)))
  }

  /** The delta of new messages after the kept ids (see `renderDelta`). */
  async delta(
    chat: ChatRequest,
    shape: ChatTemplateShape,
    input: DeltaInput,
    options: StreamCallOptions | undefined,
  ): Promise<DeltaResult> {
    const key = settingsKey(chat)
    const neutral = this.#cache.toolsNeutral.get(key)
    const run = (withTools: boolean) =>
      renderDelta({
        ...input,
        shape,
        render: (messages, addGenerationPrompt) =>
          this.render(chat, messages, addGenerationPrompt, options, withTools),
        renderPrefix: (prefix) =>
          JSON.stringify(prefix) === FIXED_PREFIX_KEY
            ? this.#fixedPrefix(chat, withTools, options)
            : this.render(chat, prefix, false, options, withTools),
      })
    if (!hasTools(chat) || neutral !== undefined) return run(neutral !== true)
    const [withTools, withoutTools] = await Promise.all([run(true), run(false)])
    if (withTools.kind === 'appended') {
      this.#cache.toolsNeutral.set(key, JSON.stringify(withTools) === JSON.stringify(withoutTools))
    }
    return withTools
  }

  #fixedPrefix(
    chat: ChatRequest,
    withTools: boolean,
    options: StreamCallOptions | undefined,
  ): Promise<RenderedChatTemplate> {
    const prefixes = this.#cache.prefixes
    const key = JSON.stringify([
      withTools && hasTools(chat) ? chat.tools : null,
      chat.chat_template_kwargs ?? null,
    ])
    // one entry per set of tools and template arguments: a few, unless they change on every call
    if (!prefixes.has(key) && prefixes.size >= MAX_PREFIX_RENDERS) prefixes.clear()
    const shared = remember(prefixes, key, () =>
      this.render(chat, [...FIXED_PREFIX], false, undefined, withTools),
    )
    return untilAborted(shared, options?.signal)
  }
}

const FIXED_PREFIX_KEY = JSON.stringify(FIXED_PREFIX)

/** The cached promise for `key`, or a new one that is forgotten if it fails. */
function remember<T>(map: Map<string, Promise<T>>, key: string, create: () => Promise<T>): Promise<T> {
  let value = map.get(key)
  if (value === undefined) {
    value = create()
    map.set(key, value)
    value.catch(() => map.delete(key))
  }
  return value
}

function hasTools(chat: ChatRequest): boolean {
  return Array.isArray(chat.tools) && chat.tools.length > 0
}

function settingsKey(chat: ChatRequest): string {
  return JSON.stringify([chat.tools ?? null, chat.chat_template_kwargs ?? null])
}

function templateArguments(chat: ChatRequest): { chatTemplateKwargs?: Record<string, unknown> } {
  const kwargs = chat.chat_template_kwargs
  return kwargs !== undefined && kwargs !== null ? { chatTemplateKwargs: kwargs } : {}
}
