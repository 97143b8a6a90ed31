import type { IncomingMessage, ServerResponse } from 'node:http'
import { faultFromHeader, faultsForRequest } from './faults'
import {
  ENDOFTEXT_TOKEN_ID,
  type Generation,
  runEngine,
  type StopConditions,
  tokenizeReply,
} from './generation'
import type { TokenCounters } from './metrics-endpoint'
import type { ContextOverflowWording, MockFault, MockVllmMode, ToolStreamQuirk } from './mock-vllm-options'
import type { Qwen3Tokenizer } from './qwen3-tokenizer'
import type { Reply, ReplyPolicy } from './reply-policy'
import { SeededRandom } from './seeded-random'
import { resetConnection, type StreamPlan, sleep, startEventStream, writeEventStream } from './sse-writer'
import type { VersionProfile } from './version-profile'
import { errorBody, VllmHttpError, validationMessages, vllmError } from './vllm-errors'

/** Everything a handler needs: resolved options plus per-server state. */
export interface MockContext {
  tokenizer: Qwen3Tokenizer
  model: string
  maxModelLen: number
  mode: MockVllmMode
  profile: VersionProfile
  policy: ReplyPolicy
  nonCanonicalRate: number
  seed: number
  tokensPerChunk: number
  firstTokenDelayMs: number
  interChunkDelayMs: number
  faults: MockFault[]
  contextOverflowWording: ContextOverflowWording
  enableAutoToolChoice: boolean
  reasoningParser: boolean
  toolStreamQuirks: ReadonlySet<ToolStreamQuirk>
  /** `--enable-scale-out`: the render endpoints are served. */
  enableScaleOut: boolean
  /** Draws the request ids of the render endpoints (they generate nothing, so they take no request index). */
  renderRandom: SeededRandom
  /** Tokens processed since the server started, served by `GET /metrics`. */
  counters: TokenCounters
  /** Next 0-based generation-request index (chat and completions share it). */
  nextRequestIndex(): number
  /** Aborted when the server closes. */
  closing: AbortSignal
}

/** One generation request in flight. */
export interface GenerationCall {
  requestIndex: number
  /** Seeded from (seed, requestIndex): ids, splits and logprobs do not depend on timing. */
  random: SeededRandom
  faults: MockFault[]
  /** `X-Request-Id` header or `request_id` body field; replaces the random part of the response id. */
  requestIdOverride: string | undefined
  /** Aborted when the client disconnects or the server closes. */
  signal: AbortSignal
}

/** Sets up a generation call: index, generator, faults (an `http-status` fault answers at once). */
export function beginGenerationCall(
  context: MockContext,
  request: IncomingMessage,
  response: ServerResponse,
  body: Record<string, unknown>,
): GenerationCall {
  const requestIndex = context.nextRequestIndex()
  const faults = faultsForRequest(context.faults, context.seed, requestIndex)
  const headerFault = faultFromHeader(request.headers['x-mock-fault'])
  if (headerFault) faults.push(headerFault)
  const statusFault = faults.find((fault) => fault.kind === 'http-status')
  if (statusFault?.kind === 'http-status') {
    const retryAfter = statusFault.retryAfterSeconds ?? (statusFault.status === 429 ? 1 : undefined)
    const messages = { 429: 'Too many requests.', 500: 'Internal server error.', 503: 'Service unavailable.' }
    const error = vllmError(statusFault.status, messages[statusFault.status])
    throw new VllmHttpError(error.info, retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) })
  }
  const controller = new AbortController()
  const abort = () => controller.abort()
  response.on('close', abort)
  context.closing.addEventListener('abort', abort, { once: true })
  response.on('close', () => context.closing.removeEventListener('abort', abort))
  const headerId = request.headers['x-request-id']
  const bodyId = typeof body.request_id === 'string' ? body.request_id : undefined
  return {
    requestIndex,
    random: new SeededRandom(context.seed * 1_000_003 + requestIndex),
    faults,
    requestIdOverride: (Array.isArray(headerId) ? headerId[0] : headerId) ?? bodyId,
    signal: controller.signal,
  }
}

/** `chatcmpl-…` / `cmpl-…` with the mode's hex length, or the caller's request id. */
export function responseId(context: MockContext, call: GenerationCall, prefix: string): string {
  return `${prefix}-${call.requestIdOverride ?? call.random.hex(context.profile.idHexLength)}`
}

/**
 * Runs the engine for one choice: reply → ids (optionally non-canonical) → stop conditions. Counts the choice's
 * prompt and sampled tokens in `context.counters` (what vLLM's engine counts once it schedules the request).
 */
export function generateChoice(
  context: MockContext,
  reply: Reply,
  conditions: StopConditions,
  random: SeededRandom,
  promptTokens: number,
): Generation {
  let generation: Generation
  if (reply.kind === 'ids') {
    generation = fastGeneration(context, reply.ids, reply.texts, conditions)
  } else {
    const ids = tokenizeReply(context.tokenizer, reply.text, context.nonCanonicalRate, random)
    ids.push(context.tokenizer.eosTokenId)
    generation = runEngine(context.tokenizer, ids, conditions)
  }
  context.counters.promptTokens += promptTokens
  context.counters.generationTokens += generation.ids.length
  return generation
}

/** The prepared path of the random policy: texts are known, only stop ids and max_tokens apply. */
function fastGeneration(
  context: MockContext,
  replyIds: number[],
  replyTexts: string[],
  conditions: StopConditions,
): Generation {
  if (conditions.stop.length > 0) {
    return runEngine(context.tokenizer, [...replyIds, context.tokenizer.eosTokenId], conditions)
  }
  const limit = Math.min(replyIds.length, conditions.maxTokens)
  for (let index = 0; index < limit; index += 1) {
    const id = replyIds[index]!
    if (conditions.stopTokenIds.includes(id) || id === ENDOFTEXT_TOKEN_ID) {
      const texts = replyTexts.slice(0, index)
      texts.push('')
      return { ids: replyIds.slice(0, index + 1), texts, finishReason: 'stop', stopReason: id }
    }
  }
  if (conditions.maxTokens <= replyIds.length) {
    return {
      ids: replyIds.slice(0, limit),
      texts: replyTexts.slice(0, limit),
      finishReason: 'length',
      stopReason: null,
    }
  }
  const ids = replyIds.slice()
  ids.push(context.tokenizer.eosTokenId)
  const texts = replyTexts.slice()
  texts.push('')
  return { ids, texts, finishReason: 'stop', stopReason: null }
}

/** Streams payloads with the call's pacing and faults. */
export async function sendEventStream(
  context: MockContext,
  call: GenerationCall,
  response: ServerResponse,
  requestId: string,
  payloads: Iterable<string>,
): Promise<void> {
  startEventStream(response, requestId)
  const plan: StreamPlan = {
    firstTokenDelayMs: context.firstTokenDelayMs,
    interChunkDelayMs: context.interChunkDelayMs,
    faults: call.faults,
    signal: call.signal,
  }
  await writeEventStream(response, payloads, plan)
}

/**
 * Sends a non-streaming JSON body, applying the faults that make sense without a stream: `reset` (no
 * answer), `stall` (late answer), `malformed-chunk` (a truncated body), `wrong-token-ids-type` (ids as a
 * string). `mid-stream-error` and `missing-done` only exist in streams and are ignored here.
 */
export async function sendJsonBody(
  context: MockContext,
  call: GenerationCall,
  response: ServerResponse,
  body: string,
): Promise<void> {
  let text = body
  for (const fault of call.faults) {
    if (fault.kind === 'reset') {
      resetConnection(response)
      return
    }
    if (fault.kind === 'stall') await sleep(fault.ms, call.signal)
    if (fault.kind === 'malformed-chunk') text = text.slice(0, Math.max(1, Math.floor(text.length / 2)))
    if (fault.kind === 'wrong-token-ids-type')
      text = text.replace(/"token_ids":\[([^\]]*)\]/, '"token_ids":"$1"')
  }
  await sleep(context.firstTokenDelayMs, call.signal)
  if (call.signal.aborted) return
  response.writeHead(200, { 'content-type': 'application/json' })
  response.end(text)
}

/** Sends a vLLM error body with its status. */
export function sendError(response: ServerResponse, error: VllmHttpError): void {
  if (response.headersSent) {
    response.end()
    return
  }
  response.writeHead(error.info.code, { 'content-type': 'application/json', ...error.headers })
  response.end(errorBody(error.info))
}

/** 404 for a model name the server does not serve (vLLM accepts a missing `model`). */
export function checkModel(context: MockContext, body: Record<string, unknown>): void {
  const model = body.model
  if (model !== undefined && model !== null && model !== context.model) {
    throw vllmError(404, validationMessages.unknownModel(String(model)), 'model')
  }
}
