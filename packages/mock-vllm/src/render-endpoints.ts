import { isTokenIdList } from '@vllm-tito/spec'
import { readChatTools } from './chat-tools'
import { checkModel, type MockContext } from './mock-context'
import { renderPromptIds } from './render-prompt-ids'
import { RequestFields } from './request-fields'
import { badRequest, contextOverflowError } from './vllm-errors'

/**
 * `POST /v1/chat/completions/render` (served with `enableScaleOut`, vLLM's `--enable-scale-out`): the prompt
 * ids `/v1/chat/completions` would generate from, rendered through the chat endpoint's own input side, and
 * the sampling parameters it would use, as vLLM's `GenerateRequest` (`ServingRender.render_chat_request` in
 * `vllm/entrypoints/scale_out/render/serving.py`). Nothing is generated, so no request index is taken.
 */
export function renderChatBody(context: MockContext, body: Record<string, unknown>): Record<string, unknown> {
  const fields = new RequestFields(body)
  if (!Array.isArray(body.messages))
    throw badRequest('messages: Field required (a list of chat messages)', 'messages')
  checkModel(context, body)
  const tools = readChatTools(context, body).tools
  const tokenIds = renderPromptIds(context, body, {
    ...fields.templateFlags(),
    tools,
    endpoint: 'chat-completions',
  })
  const requested =
    fields.optionalInteger('max_completion_tokens', 1) ?? fields.optionalInteger('max_tokens', 1)
  return generateRequest(context, fields, 'chatcmpl', tokenIds, requested)
}

/**
 * `POST /v1/completions/render` (served with `enableScaleOut`): one `GenerateRequest` per prompt. As for
 * `/v1/completions`, `max_tokens` defaults to 16 (`CompletionRequest.max_tokens`).
 */
export function renderCompletionBody(context: MockContext, body: Record<string, unknown>): unknown[] {
  const fields = new RequestFields(body)
  checkModel(context, body)
  const maxTokens = fields.optionalInteger('max_tokens', 1) ?? 16
  return promptIdLists(context, body.prompt).map((ids) =>
    generateRequest(context, fields, 'cmpl', ids, maxTokens),
  )
}

/**
 * vLLM's `GenerateRequest` in its field order, with the sampling parameters the generation endpoint would
 * use (the fields this mock models; vLLM's `SamplingParams` has more). `maxTokens`: the request's, or `null`
 * for the rest of the context, as vLLM's `get_max_tokens` computes it.
 */
function generateRequest(
  context: MockContext,
  fields: RequestFields,
  prefix: 'chatcmpl' | 'cmpl',
  tokenIds: number[],
  maxTokens: number | undefined,
): Record<string, unknown> {
  const overflow = contextOverflowError(
    context.contextOverflowWording,
    context.maxModelLen,
    tokenIds.length,
    maxTokens ?? null,
  )
  if (overflow) throw overflow
  const body = fields.body
  const stop = fields.stopConditions(maxTokens ?? context.maxModelLen - tokenIds.length)
  const stream = fields.streaming().stream
  return {
    request_id: `${prefix}-${context.renderRandom.hex(32)}`,
    token_ids: tokenIds,
    token_offsets: null,
    features: null,
    content_parts: null,
    sampling_params: {
      n: fields.choiceCount(),
      presence_penalty: numberOr(body.presence_penalty, 0),
      frequency_penalty: numberOr(body.frequency_penalty, 0),
      repetition_penalty: numberOr(body.repetition_penalty, 1),
      temperature: numberOr(body.temperature, 1),
      top_p: numberOr(body.top_p, 1),
      top_k: numberOr(body.top_k, 0),
      min_p: numberOr(body.min_p, 0),
      seed: typeof body.seed === 'number' ? body.seed : null,
      stop: stop.stop,
      stop_token_ids: stop.stopTokenIds,
      ignore_eos: body.ignore_eos === true,
      max_tokens: stop.maxTokens,
      min_tokens: numberOr(body.min_tokens, 0),
      skip_special_tokens: !stop.keepSpecialTokens,
      include_stop_str_in_output: body.include_stop_str_in_output === true,
    },
    model: typeof body.model === 'string' ? body.model : null,
    reasoning_ended: null,
    reasoning_parser_kwargs: null,
    return_token_ids: null,
    output_mode: 'tokens',
    stream,
    stream_options: stream ? (fields.optionalObject('stream_options') ?? null) : null,
    cache_salt: null,
    priority: 0,
    kv_transfer_params: null,
    ec_transfer_params: null,
  }
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' ? value : fallback
}

/** The prompts of a completions render request as id lists (text is encoded); a wrong shape is a 400. */
function promptIdLists(context: MockContext, prompt: unknown): number[][] {
  const isIds = (value: unknown): value is number[] => isTokenIdList(value) && value.length > 0
  if (typeof prompt === 'string') return [context.tokenizer.encode(prompt)]
  if (isIds(prompt)) return [prompt]
  if (Array.isArray(prompt) && prompt.length > 0) {
    if (prompt.every((item) => typeof item === 'string')) {
      return prompt.map((text: string) => context.tokenizer.encode(text))
    }
    if (prompt.every(isIds)) return prompt as number[][]
  }
  throw badRequest(
    'prompt: Input should be a string, a list of strings, a list of token ids or a list of lists of token ids',
    'prompt',
  )
}
