import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { isPlainObject } from '@vllm-tito/spec'
import { closeHttp, listenHttp } from '@vllm-tito/spec/internal'
import { handleChatCompletions } from './chat-completions'
import { handleCompletions } from './completions'
import { metricsText } from './metrics-endpoint'
import type { MockContext } from './mock-context'
import { sendError } from './mock-context'
import type { MockRequestLog, MockVllmOptions, MockVllmServer } from './mock-vllm-options'
import { loadQwen3Tokenizer } from './qwen3-tokenizer'
import { readMockVllmOptions } from './read-mock-vllm-options'
import { renderChatBody, renderCompletionBody } from './render-endpoints'
import { ReplyPolicy } from './reply-policy'
import { SeededRandom } from './seeded-random'
import { detokenizeBody, modelsBody, tokenizeBody } from './utility-endpoints'
import { versionProfile } from './version-profile'
import { badRequest, VllmHttpError, vllmError } from './vllm-errors'

/** Largest request body accepted (a long conversation fits easily). */
const MAX_BODY_BYTES = 64 * 1024 * 1024

/**
 * Starts a mock vLLM server (OpenAI-compatible routes, `/tokenize`, `/detokenize`, `/health`, `/version`,
 * `/v1/models`, `/metrics` with vLLM's prompt and generation token counters) with the real Qwen3 tokenizer. Resolves once it listens.
 *
 * @throws InvalidOptionError (the promise rejects) naming a bad or misspelt option, before anything listens.
 */
export async function startMockVllm(options: MockVllmOptions = {}): Promise<MockVllmServer> {
  const resolved = readMockVllmOptions(options)
  const tokenizer = await loadQwen3Tokenizer()
  const closing = new AbortController()
  let requestCounter = 0
  const context: MockContext = {
    tokenizer,
    model: resolved.model,
    maxModelLen: resolved.maxModelLen,
    mode: resolved.mode,
    profile: versionProfile(resolved.mode),
    policy: new ReplyPolicy(resolved.policy, tokenizer),
    nonCanonicalRate: resolved.nonCanonicalRate,
    seed: resolved.seed,
    tokensPerChunk: resolved.tokensPerChunk,
    firstTokenDelayMs: resolved.firstTokenDelayMs,
    interChunkDelayMs: resolved.interChunkDelayMs,
    faults: resolved.faults,
    contextOverflowWording: resolved.contextOverflowWording,
    enableAutoToolChoice: resolved.enableAutoToolChoice,
    reasoningParser: resolved.reasoningParser,
    toolStreamQuirks: new Set(resolved.toolStreamQuirks),
    enableScaleOut: resolved.enableScaleOut,
    renderRandom: new SeededRandom(resolved.seed * 7919 + 17),
    counters: { promptTokens: 0, generationTokens: 0 },
    nextRequestIndex: () => requestCounter++,
    closing: closing.signal,
  }
  const requests: MockRequestLog[] = []
  const startedAt = Math.floor(Date.now() / 1000)
  const server = createServer((request, response) => {
    handle(context, requests, startedAt, request, response).catch((error: unknown) => {
      sendError(response, vllmError(500, `mock-vllm internal error: ${(error as Error)?.message ?? error}`))
    })
  })
  const baseUrl = await listenHttp(server, resolved.port, resolved.host)
  let closed: Promise<void> | undefined
  return {
    baseUrl,
    requests,
    tokenizer,
    close() {
      closing.abort()
      closed ??= closeHttp(server)
      return closed
    },
  }
}

async function handle(
  context: MockContext,
  requests: MockRequestLog[],
  startedAt: number,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const path = (request.url ?? '/').split('?')[0]!
  const method = request.method ?? 'GET'
  const raw = await readBody(request)
  let body: unknown = null
  let parseError: string | undefined
  if (raw.length > 0) {
    try {
      body = JSON.parse(raw)
    } catch (error) {
      parseError = (error as Error).message
    }
  }
  requests.push({ method, path, body, headers: { ...request.headers } })
  try {
    const route = routes[path]
    if (!route || (route.scaleOut && !context.enableScaleOut)) {
      sendJson(response, 404, { detail: 'Not Found' })
      return
    }
    if (route.method !== method) {
      sendJson(response, 405, { detail: 'Method Not Allowed' })
      return
    }
    if (route.method === 'GET') {
      await route.handle(context, {}, request, response, startedAt)
      return
    }
    if (parseError !== undefined) throw badRequest(`JSON decode error: ${parseError}`)
    if (!isPlainObject(body)) throw badRequest('The request body must be a JSON object.')
    await route.handle(context, body, request, response, startedAt)
  } catch (error) {
    if (error instanceof VllmHttpError) sendError(response, error)
    else throw error
  }
}

interface Route {
  method: 'GET' | 'POST'
  /** Registered only with `enableScaleOut` (vLLM's `--enable-scale-out`); otherwise the path is a 404. */
  scaleOut?: true
  handle(
    context: MockContext,
    body: Record<string, unknown>,
    request: IncomingMessage,
    response: ServerResponse,
    startedAt: number,
  ): Promise<void> | void
}

const routes: Record<string, Route> = {
  '/v1/chat/completions': {
    method: 'POST',
    handle: (context, body, request, response) => handleChatCompletions(context, request, response, body),
  },
  '/v1/completions': {
    method: 'POST',
    handle: (context, body, request, response) => handleCompletions(context, request, response, body),
  },
  '/v1/chat/completions/render': {
    method: 'POST',
    scaleOut: true,
    handle: (context, body, _request, response) => sendJson(response, 200, renderChatBody(context, body)),
  },
  '/v1/completions/render': {
    method: 'POST',
    scaleOut: true,
    handle: (context, body, _request, response) =>
      sendJson(response, 200, renderCompletionBody(context, body)),
  },
  '/tokenize': {
    method: 'POST',
    handle: (context, body, _request, response) => sendJson(response, 200, tokenizeBody(context, body)),
  },
  '/detokenize': {
    method: 'POST',
    handle: (context, body, _request, response) => sendJson(response, 200, detokenizeBody(context, body)),
  },
  '/health': {
    method: 'GET',
    handle: (_context, _body, _request, response) => {
      response.writeHead(200, { 'content-length': '0' })
      response.end()
    },
  },
  '/version': {
    method: 'GET',
    handle: (context, _body, _request, response) =>
      sendJson(response, 200, { version: context.profile.version }),
  },
  '/metrics': {
    method: 'GET',
    handle: (context, _body, _request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' })
      response.end(metricsText(context))
    },
  },
  '/v1/models': {
    method: 'GET',
    handle: (context, _body, _request, response, startedAt) =>
      sendJson(response, 200, modelsBody(context, startedAt)),
  },
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' })
  response.end(JSON.stringify(body))
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    request.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        reject(badRequest(`Request body larger than ${MAX_BODY_BYTES} bytes`))
        request.destroy()
        return
      }
      chunks.push(chunk)
    })
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    request.on('error', reject)
  })
}
