import { isPlainObject } from '@vllm-tito/spec'
import type { ToolStreamQuirk } from './mock-vllm-options'
import { pythonJsonDumps } from './python-json'

/**
 * A streamed tool-call delta, in vLLM's `DeltaToolCall` key order. `name: null` is serialized only by the
 * `required-name-null` quirk (v0.10–0.11 `tool_choice: "required"` deltas).
 */
export interface DeltaToolCall {
  id?: string
  type?: 'function'
  index: number
  function: { name?: string | null; arguments?: string }
}

/** A streamed delta (`DeltaMessage`): only the parts that are present. */
export interface DeltaParts {
  reasoning?: string
  content?: string
  toolCalls?: DeltaToolCall[]
}

/** A tool call of a non-streaming message. */
export interface ParsedToolCall {
  id: string
  name: string
  /** `json.dumps(arguments, ensure_ascii=False)`, as vLLM's hermes parser re-serialises them. */
  arguments: string
}

/** The non-streaming parse of a whole output. */
export interface ParsedMessage {
  reasoning: string | null
  content: string | null
  toolCalls: ParsedToolCall[]
}

/** Which parsers the imitated server runs for this request. */
export interface ParserSettings {
  /** `--reasoning-parser qwen3`. */
  reasoning: boolean
  /** The hermes tool parser (tools offered and `tool_choice` not `none`). */
  tools: boolean
  /** Makes a `chatcmpl-tool-…` id. */
  makeToolCallId: () => string
  /**
   * Tool-stream quirks to imitate. `required-name-null` must only be passed when the request
   * has `tool_choice: "required"`.
   */
  quirks?: ReadonlySet<ToolStreamQuirk>
}

interface ToolCallSpan {
  index: number
  id: string
  /** Offset just after the closing quote of the name string, or -1 while incomplete. */
  nameEnd: number
  name: string | null
  argumentsStart: number
  argumentsEnd: number
  /** The arguments value parsed as JSON, or undefined while it is incomplete or invalid. */
  argumentsValue: unknown
  /** Body text between `<tool_call>` and `</tool_call>` (or the end). */
  body: string
  nameSent: boolean
  argumentsSent: number
}

const THINK_START = '<think>'
const THINK_END = '</think>'
const TOOL_START = '<tool_call>'
const TOOL_END = '</tool_call>'

/**
 * Imitates vLLM's qwen3 reasoning parser and hermes tool parser on the final output text, both for the
 * whole message (non-streaming) and step by step (streaming, where a step that yields nothing is a
 * "parser-swallowed" step: `null`).
 */
export class OutputParser {
  private readonly reasoningStart: number
  private readonly reasoningEnd: number
  private readonly contentStart: number
  private readonly contentEnd: number
  private readonly calls: ToolCallSpan[] = []
  private readonly quirks: ReadonlySet<ToolStreamQuirk>

  constructor(
    private readonly text: string,
    settings: ParserSettings,
  ) {
    this.quirks = settings.quirks ?? new Set()
    const thinkEnd = settings.reasoning ? text.indexOf(THINK_END) : -1
    const thinkStart = settings.reasoning ? text.indexOf(THINK_START) : -1
    if (thinkEnd >= 0) {
      this.reasoningStart = thinkStart >= 0 && thinkStart < thinkEnd ? thinkStart + THINK_START.length : 0
      this.reasoningEnd = thinkEnd
      this.contentStart = thinkEnd + THINK_END.length
    } else if (thinkStart >= 0) {
      // truncated inside the thinking block: everything after <think> is reasoning
      this.reasoningStart = thinkStart + THINK_START.length
      this.reasoningEnd = text.length
      this.contentStart = text.length
    } else {
      this.reasoningStart = 0
      this.reasoningEnd = 0
      this.contentStart = 0
    }
    const firstToolCall = settings.tools ? text.indexOf(TOOL_START, this.contentStart) : -1
    this.contentEnd = firstToolCall >= 0 ? firstToolCall : text.length
    if (firstToolCall >= 0) this.findToolCalls(firstToolCall, settings.makeToolCallId)
  }

  /** Whether the parser saw at least one tool call whose name is complete. */
  get sawToolCall(): boolean {
    return this.calls.some((call) => call.nameEnd >= 0)
  }

  /** The whole-message parse (non-streaming). */
  message(): ParsedMessage {
    const hasReasoning = this.reasoningEnd > this.reasoningStart || this.contentStart > 0
    const reasoning = hasReasoning ? this.text.slice(this.reasoningStart, this.reasoningEnd) : null
    const content = this.text.slice(this.contentStart, this.contentEnd)
    const toolCalls: ParsedToolCall[] = []
    for (const call of this.calls) {
      const parsed = parseCallBody(call.body)
      if (!parsed) {
        // hermes falls back to plain content when a call is not valid JSON
        return { reasoning, content: this.text.slice(this.contentStart), toolCalls: [] }
      }
      toolCalls.push({ id: call.id, name: parsed.name, arguments: pythonJsonDumps(parsed.arguments, false) })
    }
    const emptyMeansNull = hasReasoning || toolCalls.length > 0
    return { reasoning, content: content === '' && emptyMeansNull ? null : content, toolCalls }
  }

  /**
   * The delta for the step that extends the text from `from` to `to`, or `null` when the parsers swallowed
   * it. `finished` flushes tool-call arguments not streamed yet (vLLM sends them with the finish chunk).
   */
  step(from: number, to: number, finished: boolean): DeltaParts | null {
    const parts: DeltaParts = {}
    const reasoning = this.slice(from, to, this.reasoningStart, this.reasoningEnd)
    if (reasoning) parts.reasoning = reasoning
    const content = this.slice(from, to, this.contentStart, this.contentEnd)
    if (content) parts.content = content
    const toolCalls: DeltaToolCall[] = []
    for (const call of this.calls) this.toolCallDeltas(call, to, finished, toolCalls)
    if (toolCalls.length > 0) parts.toolCalls = toolCalls
    if (parts.reasoning === undefined && parts.content === undefined && parts.toolCalls === undefined) {
      // an empty step inside plain content (an incomplete UTF-8 byte) still streams as content ""
      if (from === to && from >= this.contentStart && from < this.contentEnd) return { content: '' }
      return null
    }
    return parts
  }

  /** Appends the deltas of one call for the step ending at `to`. */
  private toolCallDeltas(call: ToolCallSpan, to: number, finished: boolean, out: DeltaToolCall[]): void {
    const required = this.quirks.has('required-name-null')
    if (!call.nameSent) {
      if (call.nameEnd < 0 || to < call.nameEnd) return
      if (required && !this.dropsArguments(call)) {
        // v0.10–0.11 `extract_tool_call_required_streaming`: the name waits for the start of the arguments
        // and travels with it
        if (!finished && (call.argumentsStart < 0 || to <= call.argumentsStart)) return
        call.nameSent = true
        const function_ = { name: call.name!, arguments: this.argumentsFragment(call, to, finished) ?? '' }
        out.push({ id: call.id, type: 'function', index: call.index, function: function_ })
        return
      }
      call.nameSent = true
      out.push({ id: call.id, type: 'function', index: call.index, function: { name: call.name! } })
      // hermes answers the name step with the name only; arguments follow from the next step on
      if (!finished) return
    }
    const fragment = this.argumentsFragment(call, to, finished)
    if (fragment === undefined) return
    out.push({
      index: call.index,
      function: required ? { name: null, arguments: fragment } : { arguments: fragment },
    })
  }

  /** The arguments text this step releases for a call, or undefined when it releases none. */
  private argumentsFragment(call: ToolCallSpan, to: number, finished: boolean): string | undefined {
    if (call.argumentsStart < 0 || this.dropsArguments(call)) return undefined
    const closed = to >= call.argumentsEnd
    if (!finished && !closed && this.quirks.has('one-piece-arguments')) return undefined
    const heldForFinish =
      this.quirks.has('arguments-in-finish-chunk') &&
      call.index === this.calls.length - 1 &&
      call.argumentsValue !== undefined
    if (heldForFinish && closed) {
      if (!finished) return undefined
      // serving_chat `_should_check_for_unstreamed_tool_arg_tokens`: json.dumps of the parsed arguments with
      // the streamed text removed once (arguments written in another JSON spacing come out garbled, as in vLLM)
      const streamed =
        call.argumentsSent > call.argumentsStart
          ? this.text.slice(call.argumentsStart, call.argumentsSent)
          : ''
      call.argumentsSent = call.argumentsEnd
      return pythonJsonDumps(call.argumentsValue, false).replace(streamed, () => '')
    }
    const limit = finished ? call.argumentsEnd : Math.min(to, call.argumentsEnd)
    const start = Math.max(call.argumentsSent, call.argumentsStart)
    if (limit <= start) return undefined
    call.argumentsSent = limit
    return this.text.slice(start, limit)
  }

  /** `drop-empty-arguments`: hermes streaming a parameterless call without its `{}` (vllm-project/vllm#28806). */
  private dropsArguments(call: ToolCallSpan): boolean {
    const value = call.argumentsValue
    return this.quirks.has('drop-empty-arguments') && isPlainObject(value) && Object.keys(value).length === 0
  }

  private slice(from: number, to: number, start: number, end: number): string {
    const low = Math.max(from, start)
    const high = Math.min(to, end)
    return high > low ? this.text.slice(low, high) : ''
  }

  private findToolCalls(first: number, makeId: () => string): void {
    let start = first
    while (start >= 0) {
      const bodyStart = start + TOOL_START.length
      const close = this.text.indexOf(TOOL_END, bodyStart)
      const bodyEnd = close >= 0 ? close : this.text.length
      const body = this.text.slice(bodyStart, bodyEnd)
      const span: ToolCallSpan = {
        index: this.calls.length,
        id: makeId(),
        nameEnd: -1,
        name: null,
        argumentsStart: -1,
        argumentsEnd: -1,
        argumentsValue: undefined,
        body,
        nameSent: false,
        argumentsSent: 0,
      }
      const nameMatch = /^\s*\{\s*"name"\s*:\s*("(?:[^"\\]|\\.)*")/.exec(body)
      if (nameMatch) {
        span.nameEnd = bodyStart + nameMatch[0].length
        span.name = JSON.parse(nameMatch[1]!) as string
        const argumentsMatch = /^\s*,\s*"arguments"\s*:\s*/.exec(body.slice(nameMatch[0].length))
        if (argumentsMatch) {
          const valueStart = nameMatch[0].length + argumentsMatch[0].length
          span.argumentsStart = bodyStart + valueStart
          span.argumentsEnd = bodyStart + valueStart + jsonValueLength(body, valueStart)
          span.argumentsValue = parseJson(this.text.slice(span.argumentsStart, span.argumentsEnd))
        }
      }
      this.calls.push(span)
      start = close >= 0 ? this.text.indexOf(TOOL_START, close + TOOL_END.length) : -1
    }
  }
}

/** Length of the JSON value starting at `start` (bracket matching, strings respected); to the end if open. */
function jsonValueLength(text: string, start: number): number {
  let depth = 0
  let inString = false
  for (let index = start; index < text.length; index += 1) {
    const character = text[index]
    if (inString) {
      if (character === '\\') index += 1
      else if (character === '"') {
        inString = false
        if (depth === 0) return index + 1 - start
      }
      continue
    }
    if (character === '"') inString = true
    else if (character === '{' || character === '[') depth += 1
    else if (character === '}' || character === ']') {
      depth -= 1
      if (depth === 0) return index + 1 - start
      if (depth < 0) return index - start
    } else if (depth === 0 && (character === ',' || character === '\n')) {
      return index - start
    }
  }
  return text.length - start
}

function parseCallBody(body: string): { name: string; arguments: unknown } | undefined {
  try {
    const parsed = JSON.parse(body) as { name?: unknown; arguments?: unknown }
    if (typeof parsed?.name !== 'string') return undefined
    return { name: parsed.name, arguments: parsed.arguments ?? {} }
  } catch {
    return undefined
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}
