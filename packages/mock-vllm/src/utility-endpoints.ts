import { type ChatTool, isTokenIdList } from '@vllm-tito/spec'
import { checkModel, type MockContext } from './mock-context'
import { renderPromptIds } from './render-prompt-ids'
import { RequestFields } from './request-fields'
import { badRequest } from './vllm-errors'

/** `POST /tokenize` (prompt and chat forms), vLLM's `TokenizeResponse`. */
export function tokenizeBody(context: MockContext, body: Record<string, unknown>): Record<string, unknown> {
  const fields = new RequestFields(body)
  checkModel(context, body)
  const returnTokenStrings = fields.optionalBoolean('return_token_strs') ?? false
  let tokens: number[]
  if (Array.isArray(body.messages)) {
    const tools = Array.isArray(body.tools) ? (body.tools as ChatTool[]) : undefined
    tokens = renderPromptIds(context, body, { ...fields.templateFlags(), tools, endpoint: 'tokenize' })
  } else if (typeof body.prompt === 'string') {
    // Qwen3 adds no BOS, so add_special_tokens changes nothing
    tokens = context.tokenizer.encode(body.prompt)
  } else {
    throw badRequest('Either `prompt` (a string) or `messages` (a list) is required.')
  }
  return {
    count: tokens.length,
    max_model_len: context.maxModelLen,
    tokens,
    token_strs: returnTokenStrings ? context.tokenizer.tokenStrings(tokens) : null,
  }
}

/** `POST /detokenize`. */
export function detokenizeBody(context: MockContext, body: Record<string, unknown>): Record<string, unknown> {
  checkModel(context, body)
  const tokens = body.tokens
  if (!isTokenIdList(tokens)) {
    throw badRequest('tokens: Input should be a valid list of non-negative integers', 'tokens')
  }
  const unknown = tokens.find((id) => context.tokenizer.pieceOf(id) === undefined)
  if (unknown !== undefined) throw badRequest(`Token id ${unknown} is out of vocabulary`, 'tokens')
  return { prompt: context.tokenizer.decode(tokens) }
}

/** `GET /v1/models`. */
export function modelsBody(context: MockContext, created: number): Record<string, unknown> {
  return {
    object: 'list',
    data: [
      {
        id: context.model,
        object: 'model',
        created,
        owned_by: 'vllm',
        root: context.model,
        parent: null,
        max_model_len: context.maxModelLen,
        permission: [
          {
            id: `modelperm-${context.profile.idHexLength === 16 ? 'ba83413358dd8c4d' : 'ba83413358dd8c4dba83413358dd8c4d'}`,
            object: 'model_permission',
            created,
            allow_create_engine: false,
            allow_sampling: true,
            allow_logprobs: true,
            allow_search_indices: false,
            allow_view: true,
            allow_fine_tuning: false,
            organization: '*',
            group: null,
            is_blocking: false,
          },
        ],
      },
    ],
  }
}
