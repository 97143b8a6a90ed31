import type { IncomingMessage, ServerResponse } from 'node:http'
import { isTokenIdList } from '@vllm-tito/spec'
import type { Generation } from './generation'
import { completionLogprobs, makeLogprobs, type PositionLogprobs, promptLogprobs } from './logprobs'
import {
  beginGenerationCall,
  checkModel,
  generateChoice,
  type MockContext,
  responseId,
  sendEventStream,
  sendJsonBody,
} from './mock-context'
import { readRenderedConversation } from './rendered-conversation'
import { RequestFields } from './request-fields'
import type { SeededRandom } from './seeded-random'
import { usageBody } from './usage-body'
import { badRequest, contextOverflowError } from './vllm-errors'

interface CompletionChoice {
  index: number
  promptIds: number[]
  /** Text echoed before the completion (`echo: true`; empty with `return_token_ids`, as in vLLM). */
  echoText: string
  generation: Generation
  text: string
  logprobs: PositionLogprobs[] | null
}

interface CompletionCall {
  id: string
  created: number
  model: string
  choices: CompletionChoice[]
  returnTokenIds: boolean
  includeUsage: boolean
  continuousUsage: boolean
  tokensAsIds: boolean
  promptTokens: number
  /** `prompt_logprobs` of the request (non-streaming only), or undefined. */
  promptLogprobs: number | undefined
  random: SeededRandom
}

/** `POST /v1/completions`: prompt as a string, `int[]`, `string[]` or `int[][]`; ids per choice. */
export async function handleCompletions(
  context: MockContext,
  request: IncomingMessage,
  response: ServerResponse,
  body: Record<string, unknown>,
): Promise<void> {
  const fields = new RequestFields(body)
  const streaming = fields.streaming()
  const logprobs = fields.optionalInteger('logprobs', 0)
  const prompts = promptList(context, body.prompt)
  checkModel(context, body)
  const maxTokens = fields.optionalInteger('max_tokens', 0) ?? 16
  const echo = fields.optionalBoolean('echo') ?? false
  if (maxTokens === 0 && !echo) throw badRequest('max_tokens must be at least 1, got 0.', 'max_tokens')
  for (const ids of prompts) {
    const overflow = contextOverflowError(
      context.contextOverflowWording,
      context.maxModelLen,
      ids.length,
      maxTokens,
    )
    if (overflow) throw overflow
  }
  const n = fields.choiceCount()
  const conditions = fields.stopConditions(maxTokens)
  const returnTokenIds = context.profile.supportsTokenIds && body.return_token_ids === true

  const call = beginGenerationCall(context, request, response, body)
  const random = context.policy.isRandom
  const conversation = random ? undefined : readRenderedConversation(context.tokenizer.decode(prompts[0]!))
  const text = random
    ? ''
    : context.policy.text({
        body,
        requestIndex: call.requestIndex,
        endpoint: 'completions',
        ...(conversation && { conversation }),
      })
  const choices: CompletionChoice[] = []
  prompts.forEach((promptIds, promptIndex) => {
    for (let choiceIndex = 0; choiceIndex < n; choiceIndex += 1) {
      const index = promptIndex * n + choiceIndex
      const choiceRandom = call.random.fork(index)
      const reply = random ? context.policy.randomReply(choiceRandom) : { kind: 'text' as const, text }
      const generation = generateChoice(context, reply, conditions, choiceRandom, promptIds.length)
      choices.push({
        index,
        promptIds,
        echoText: echo && !returnTokenIds ? context.tokenizer.decode(promptIds) : '',
        generation,
        text: generation.texts.join(''),
        logprobs: logprobs !== undefined ? makeLogprobs(generation.ids, logprobs, choiceRandom) : null,
      })
    }
  })
  const completion: CompletionCall = {
    id: responseId(context, call, 'cmpl'),
    created: Math.floor(Date.now() / 1000),
    model: context.model,
    choices,
    returnTokenIds,
    includeUsage: streaming.includeUsage,
    continuousUsage: streaming.continuousUsage,
    tokensAsIds: body.return_tokens_as_token_ids === true,
    promptTokens: prompts.reduce((sum, ids) => sum + ids.length, 0),
    promptLogprobs: streaming.promptLogprobs,
    random: call.random,
  }
  if (streaming.stream) {
    await sendEventStream(
      context,
      call,
      response,
      completion.id,
      completionStreamPayloads(context, completion),
    )
  } else {
    await sendJsonBody(context, call, response, JSON.stringify(completionBody(context, completion)))
  }
}

/** The prompts as id lists; a wrong shape is a 400 naming `prompt`. */
function promptList(context: MockContext, prompt: unknown): number[][] {
  const isIds = (value: unknown): value is number[] => isTokenIdList(value) && value.length > 0
  let prompts: number[][]
  if (typeof prompt === 'string') prompts = [context.tokenizer.encode(prompt)]
  else if (isIds(prompt)) prompts = [prompt]
  else if (Array.isArray(prompt) && prompt.length > 0 && prompt.every((item) => typeof item === 'string')) {
    prompts = (prompt as string[]).map((text) => context.tokenizer.encode(text))
  } else if (Array.isArray(prompt) && prompt.length > 0 && prompt.every(isIds)) prompts = prompt as number[][]
  else {
    throw badRequest(
      'prompt: Input should be a string, a list of strings, a list of token ids or a list of lists of token ids',
      'prompt',
    )
  }
  for (const ids of prompts) {
    const unknown = ids.find((id) => context.tokenizer.pieceOf(id) === undefined)
    if (unknown !== undefined) throw badRequest(`Token id ${unknown} is out of vocabulary`, 'prompt')
  }
  return prompts
}

function completionBody(context: MockContext, completion: CompletionCall): Record<string, unknown> {
  const profile = context.profile
  let completionTokens = 0
  const choices = completion.choices.map((choice) => {
    completionTokens += choice.generation.ids.length
    const result: Record<string, unknown> = {
      index: choice.index,
      text: choice.echoText + choice.text,
      logprobs: choice.logprobs
        ? completionLogprobs(
            choice.logprobs,
            choice.generation.texts,
            choice.echoText.length,
            completion.tokensAsIds,
            context.tokenizer,
          )
        : null,
      finish_reason: choice.generation.finishReason,
      stop_reason: choice.generation.stopReason,
    }
    if (profile.supportsTokenIds) result.token_ids = completion.returnTokenIds ? choice.generation.ids : null
    result.prompt_logprobs =
      completion.promptLogprobs === undefined
        ? null
        : promptLogprobs(
            choice.promptIds,
            Math.max(0, completion.promptLogprobs),
            completion.random.fork(-1 - choice.index),
            context.tokenizer,
          )
    if (profile.supportsTokenIds) {
      result.prompt_token_ids = completion.returnTokenIds ? choice.promptIds : null
    }
    return result
  })
  return {
    id: completion.id,
    object: 'text_completion',
    created: completion.created,
    model: completion.model,
    choices,
    service_tier: null,
    system_fingerprint: null,
    usage: usageBody(completion.promptTokens, completionTokens, true),
    kv_transfer_params: null,
  }
}

/** The completions stream's payloads: per choice, every step carries its text and ids. */
function* completionStreamPayloads(context: MockContext, completion: CompletionCall): Generator<string> {
  const profile = context.profile
  const head = `{"id":${JSON.stringify(completion.id)},"object":"text_completion","created":${completion.created},"model":${JSON.stringify(completion.model)},"choices":[`
  const step = context.tokensPerChunk
  for (const choice of completion.choices) {
    const ids = choice.generation.ids
    let textOffset = 0
    // one chunk per `step` tokens; a choice without ids (echo with max_tokens 0) still sends its one chunk
    for (let start = 0; start < ids.length || start === 0; start += step) {
      const end = Math.min(ids.length, start + step)
      const finished = end >= ids.length
      const texts = choice.generation.texts.slice(start, end)
      let text = texts.join('')
      if (start === 0) text = choice.echoText + text
      const logprobs = choice.logprobs
        ? JSON.stringify(
            completionLogprobs(
              choice.logprobs.slice(start, end),
              texts,
              textOffset + (start === 0 ? choice.echoText.length : 0),
              completion.tokensAsIds,
              context.tokenizer,
            ),
          )
        : 'null'
      textOffset += text.length
      let fields = `{"index":${choice.index},"text":${JSON.stringify(text)},"logprobs":${logprobs},"finish_reason":${finished ? JSON.stringify(choice.generation.finishReason) : 'null'},"stop_reason":${finished ? JSON.stringify(choice.generation.stopReason) : 'null'}`
      if (profile.supportsTokenIds) {
        const promptIds =
          start === 0 && completion.returnTokenIds ? `[${choice.promptIds.join(',')}]` : 'null'
        const stepIds = completion.returnTokenIds ? `[${ids.slice(start, end).join(',')}]` : 'null'
        fields += `,"prompt_token_ids":${promptIds},"token_ids":${stepIds}`
      }
      let tail = ']'
      if (completion.continuousUsage) {
        tail += `,"usage":${JSON.stringify(usageBody(completion.promptTokens, end, false))}`
      } else if (profile.completionsStreamAllKeys) {
        tail += ',"usage":null'
      }
      yield `${head}${fields}}${tail}}`
    }
  }
  if (completion.includeUsage) {
    const completionTokens = completion.choices.reduce((sum, choice) => sum + choice.generation.ids.length, 0)
    yield `${head}],"usage":${JSON.stringify(usageBody(completion.promptTokens, completionTokens, false))}}`
  }
}
