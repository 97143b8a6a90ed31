import type { IncomingMessage, ServerResponse } from 'node:http'
import { readChatTools } from './chat-tools'
import type { Generation, StopConditions } from './generation'
import { chatLogprobEntry, makeLogprobs, type PositionLogprobs, promptLogprobs } from './logprobs'
import {
  beginGenerationCall,
  checkModel,
  type GenerationCall,
  generateChoice,
  type MockContext,
  responseId,
  sendEventStream,
  sendJsonBody,
} from './mock-context'
import type { ToolStreamQuirk } from './mock-vllm-options'
import { type DeltaParts, OutputParser } from './output-parser'
import { renderPromptIds } from './render-prompt-ids'
import { RequestFields } from './request-fields'
import type { SeededRandom } from './seeded-random'
import { usageBody } from './usage-body'
import { badRequest, contextOverflowError, validationMessages } from './vllm-errors'

/** One choice after the engine and the parsers ran. */
interface ChatChoice {
  index: number
  generation: Generation
  /** `null` for the random policy: plain text, no markup to parse. */
  parser: OutputParser | null
  text: string
  logprobs: PositionLogprobs[] | null
}

/** A validated chat request, with everything the response builders need. */
interface ChatCall {
  id: string
  created: number
  model: string
  promptIds: number[]
  choices: ChatChoice[]
  stream: boolean
  returnTokenIds: boolean
  includeUsage: boolean
  continuousUsage: boolean
  logprobs: boolean
  topLogprobs: number
  tokensAsIds: boolean
  toolsActive: boolean
  namedToolChoice: boolean
  /** `prompt_logprobs` of the request (non-streaming only), or undefined. */
  promptLogprobs: number | undefined
  random: SeededRandom
}

/** `POST /v1/chat/completions`. */
export async function handleChatCompletions(
  context: MockContext,
  request: IncomingMessage,
  response: ServerResponse,
  body: Record<string, unknown>,
): Promise<void> {
  const fields = new RequestFields(body)
  const streaming = fields.streaming()
  const logprobs = fields.optionalBoolean('logprobs') ?? false
  const topLogprobs = fields.optionalInteger('top_logprobs', 0)
  if (!Array.isArray(body.messages))
    throw badRequest('messages: Field required (a list of chat messages)', 'messages')
  if (topLogprobs !== undefined && !logprobs) throw badRequest(validationMessages.topLogprobsWithoutLogprobs)
  checkModel(context, body)

  const toolSettings = readChatTools(context, body)
  const templateFlags = fields.templateFlags()
  const promptIds = renderPromptIds(context, body, {
    ...templateFlags,
    tools: toolSettings.tools,
    endpoint: 'chat-completions',
  })

  const maxTokens =
    fields.optionalInteger('max_completion_tokens', 1) ?? fields.optionalInteger('max_tokens', 1)
  const overflow = contextOverflowError(
    context.contextOverflowWording,
    context.maxModelLen,
    promptIds.length,
    maxTokens ?? null,
  )
  if (overflow) throw overflow
  const n = fields.choiceCount()
  const conditions = fields.stopConditions(maxTokens ?? context.maxModelLen - promptIds.length)

  const call = beginGenerationCall(context, request, response, body)
  const quirks = new Set(context.toolStreamQuirks)
  // the "name": null deltas belong to the tool_choice "required" path only
  if (toolSettings.toolChoice !== 'required') quirks.delete('required-name-null')
  const choices = generateChoices(context, call, body, n, conditions, {
    promptTokens: promptIds.length,
    toolsActive: toolSettings.toolsActive,
    quirks,
    logprobs,
    topLogprobs: topLogprobs ?? 0,
  })
  const chat: ChatCall = {
    id: responseId(context, call, 'chatcmpl'),
    created: Math.floor(Date.now() / 1000),
    model: context.model,
    promptIds,
    choices,
    stream: streaming.stream,
    returnTokenIds: context.profile.supportsTokenIds && body.return_token_ids === true,
    includeUsage: streaming.includeUsage,
    continuousUsage: streaming.continuousUsage,
    logprobs,
    topLogprobs: topLogprobs ?? 0,
    tokensAsIds: body.return_tokens_as_token_ids === true,
    toolsActive: toolSettings.toolsActive,
    namedToolChoice: toolSettings.namedToolChoice,
    promptLogprobs: streaming.promptLogprobs,
    random: call.random,
  }
  if (chat.stream) {
    await sendEventStream(context, call, response, chat.id, chatStreamPayloads(context, chat))
  } else {
    await sendJsonBody(context, call, response, JSON.stringify(chatResponseBody(context, chat)))
  }
}

function generateChoices(
  context: MockContext,
  call: GenerationCall,
  body: Record<string, unknown>,
  n: number,
  conditions: StopConditions,
  settings: {
    promptTokens: number
    toolsActive: boolean
    quirks: ReadonlySet<ToolStreamQuirk>
    logprobs: boolean
    topLogprobs: number
  },
): ChatChoice[] {
  const { promptTokens, toolsActive, quirks, logprobs, topLogprobs } = settings
  const random = context.policy.isRandom
  const text = random ? '' : context.policy.text({ body, requestIndex: call.requestIndex, endpoint: 'chat' })
  const choices: ChatChoice[] = []
  for (let index = 0; index < n; index += 1) {
    const choiceRandom = call.random.fork(index)
    const reply = random ? context.policy.randomReply(choiceRandom) : { kind: 'text' as const, text }
    const generation = generateChoice(context, reply, conditions, choiceRandom, promptTokens)
    const outputText = generation.texts.join('')
    const parser = random
      ? null
      : new OutputParser(outputText, {
          reasoning: context.reasoningParser,
          tools: toolsActive,
          makeToolCallId: () => `chatcmpl-tool-${choiceRandom.hex(context.profile.idHexLength)}`,
          quirks,
        })
    choices.push({
      index,
      generation,
      parser,
      text: outputText,
      logprobs: logprobs ? makeLogprobs(generation.ids, Math.max(0, topLogprobs - 1), choiceRandom) : null,
    })
  }
  return choices
}

function finishReason(context: MockContext, chat: ChatCall, choice: ChatChoice): string {
  const engine = choice.generation.finishReason
  if (!chat.toolsActive || !choice.parser?.sawToolCall) return engine
  if (chat.stream) {
    if (context.profile.toolCallsFinishOnLength) return 'tool_calls'
    return engine === 'stop' && !chat.namedToolChoice ? 'tool_calls' : engine
  }
  return engine === 'stop' ? 'tool_calls' : engine
}

function chatResponseBody(context: MockContext, chat: ChatCall): Record<string, unknown> {
  const profile = context.profile
  let completionTokens = 0
  const choices = chat.choices.map((choice) => {
    completionTokens += choice.generation.ids.length
    const parsed = choice.parser?.message() ?? { reasoning: null, content: choice.text, toolCalls: [] }
    const message: Record<string, unknown> = {
      role: 'assistant',
      content: parsed.content,
      refusal: null,
      annotations: null,
      audio: null,
      function_call: null,
    }
    const toolCalls = parsed.toolCalls.map((toolCall) => ({
      id: toolCall.id,
      type: 'function',
      function: { name: toolCall.name, arguments: toolCall.arguments },
    }))
    if (toolCalls.length > 0 || profile.keepsEmptyToolCalls) message.tool_calls = toolCalls
    message[profile.reasoningKey] = parsed.reasoning
    const result: Record<string, unknown> = {
      index: choice.index,
      message,
      logprobs: choice.logprobs ? { content: chatLogprobContent(context, chat, choice.logprobs) } : null,
      finish_reason: finishReason(context, chat, choice),
      stop_reason: choice.generation.stopReason,
    }
    if (profile.supportsTokenIds) result.token_ids = chat.returnTokenIds ? choice.generation.ids : null
    return result
  })
  const body: Record<string, unknown> = {
    id: chat.id,
    object: 'chat.completion',
    created: chat.created,
    model: chat.model,
    choices,
    service_tier: null,
    system_fingerprint: null,
    usage: usageBody(chat.promptIds.length, completionTokens, true),
    prompt_logprobs:
      chat.promptLogprobs === undefined
        ? null
        : promptLogprobs(
            chat.promptIds,
            Math.max(0, chat.promptLogprobs),
            chat.random.fork(-1),
            context.tokenizer,
          ),
  }
  if (profile.supportsTokenIds) body.prompt_token_ids = chat.returnTokenIds ? chat.promptIds : null
  if (profile.hasPromptText) body.prompt_text = null
  body.kv_transfer_params = null
  return body
}

function chatLogprobContent(
  context: MockContext,
  chat: ChatCall,
  positions: PositionLogprobs[],
): Record<string, unknown>[] {
  return positions.map((position) =>
    chatLogprobEntry(position, chat.topLogprobs, chat.tokensAsIds, context.tokenizer),
  )
}

function deltaJson(parts: DeltaParts, reasoningKey: string): string {
  let json = '{'
  let separator = ''
  if (parts.content !== undefined) {
    json += `"content":${JSON.stringify(parts.content)}`
    separator = ','
  }
  if (parts.reasoning !== undefined) {
    json += `${separator}"${reasoningKey}":${JSON.stringify(parts.reasoning)}`
    separator = ','
  }
  if (parts.toolCalls !== undefined) json += `${separator}"tool_calls":${JSON.stringify(parts.toolCalls)}`
  return `${json}}`
}

/** The chat stream's `data:` payloads (compact JSON), built lazily chunk by chunk. */
function* chatStreamPayloads(context: MockContext, chat: ChatCall): Generator<string> {
  const profile = context.profile
  const head = `{"id":${JSON.stringify(chat.id)},"object":"chat.completion.chunk","created":${chat.created},"model":${JSON.stringify(chat.model)},"choices":[`
  const idsJson = (ids: readonly number[]) => (chat.returnTokenIds ? `[${ids.join(',')}]` : 'null')
  const usageTail = (completionTokens: number) =>
    chat.continuousUsage
      ? `,"usage":${JSON.stringify(usageBody(chat.promptIds.length, completionTokens, false))}`
      : ''
  const parserActive = context.reasoningParser || chat.toolsActive
  const emptyFinishDelta = profile.sendsSwallowedSteps && parserActive ? '{}' : '{"content":""}'
  const sendSwallowed = profile.sendsSwallowedSteps && (chat.returnTokenIds || chat.logprobs)

  for (const choice of chat.choices) {
    let tail = `]${usageTail(0)}`
    if (profile.supportsTokenIds)
      tail += `,"prompt_token_ids":${chat.returnTokenIds ? `[${chat.promptIds.join(',')}]` : 'null'}`
    if (profile.hasPromptText) tail += ',"prompt_text":null'
    yield `${head}{"index":${choice.index},"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}${tail}}`
  }

  const step = context.tokensPerChunk
  const cursors = chat.choices.map(() => ({ token: 0, offset: 0 }))
  let remaining = chat.choices.filter((choice) => choice.generation.ids.length > 0).length
  while (remaining > 0) {
    for (const choice of chat.choices) {
      const cursor = cursors[choice.index]!
      const ids = choice.generation.ids
      if (cursor.token >= ids.length) continue
      const start = cursor.token
      const end = Math.min(ids.length, start + step)
      let stepText = ''
      for (let index = start; index < end; index += 1) stepText += choice.generation.texts[index]
      const from = cursor.offset
      const to = from + stepText.length
      cursor.token = end
      cursor.offset = to
      const finished = end >= ids.length
      if (finished) remaining -= 1
      const stepIds = ids.slice(start, end)
      const parts = choice.parser ? choice.parser.step(from, to, finished) : { content: stepText }
      const logprobs = choice.logprobs
        ? `{"content":${JSON.stringify(chatLogprobContent(context, chat, choice.logprobs.slice(start, end)))}}`
        : 'null'
      const idsField = profile.supportsTokenIds ? `,"token_ids":${idsJson(stepIds)}` : ''
      if (finished) {
        const delta = parts ? deltaJson(parts, profile.reasoningKey) : emptyFinishDelta
        const stopReason = JSON.stringify(choice.generation.stopReason)
        let tail = `]${usageTail(end)}`
        if (profile.streamSystemFingerprint && !chat.includeUsage) {
          tail += `,"system_fingerprint":"${profile.streamSystemFingerprint}"`
        }
        const reason = finishReason(context, chat, choice)
        yield `${head}{"index":${choice.index},"delta":${delta},"logprobs":${logprobs},"finish_reason":"${reason}","stop_reason":${stopReason}${idsField}}${tail}}`
      } else if (parts) {
        yield `${head}{"index":${choice.index},"delta":${deltaJson(parts, profile.reasoningKey)},"logprobs":${logprobs},"finish_reason":null${idsField}}]${usageTail(end)}}`
      } else if (sendSwallowed) {
        const logprobsField = chat.logprobs ? `,"logprobs":${logprobs}` : ''
        yield `${head}{"index":${choice.index},"delta":{}${logprobsField},"finish_reason":null${idsField}}]${usageTail(end)}}`
      }
    }
  }

  if (chat.includeUsage) {
    const completionTokens = chat.choices.reduce((sum, choice) => sum + choice.generation.ids.length, 0)
    let usageChunk = `{"id":${JSON.stringify(chat.id)},"object":"chat.completion.chunk","created":${chat.created},"model":${JSON.stringify(chat.model)},"choices":[],"usage":${JSON.stringify(usageBody(chat.promptIds.length, completionTokens, false))}`
    if (profile.streamSystemFingerprint)
      usageChunk += `,"system_fingerprint":"${profile.streamSystemFingerprint}"`
    yield `${usageChunk}}`
  }
}
