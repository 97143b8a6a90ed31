import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import OpenAI7 from 'openai'
import { VERSION as VERSION_7 } from 'openai/version'
import OpenAI6 from 'openai-v6'
import { VERSION as VERSION_6 } from 'openai-v6/version'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AdapterError, type AdapterFailure, OpenAIAdapter, type OpenAIClientClass } from './openai-adapter'

/**
 * The adapter's contract, run against every supported major of the `openai` SDK (the declared range is
 * `^6.45 || ^7`; `openai-v6` is installed as an aliased dev dependency). Real HTTP over loopback.
 */

interface Seen {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
}

type Route = (request: IncomingMessage, response: ServerResponse, body: string) => void

const seen: Seen[] = []
const routes = new Map<string, Route>()
let server: Server
let origin: string

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = ''
    request.on('data', (piece: Buffer) => {
      body += piece.toString('utf8')
    })
    request.on('end', () => {
      seen.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body })
      const route = routes.get(new URL(request.url ?? '/', 'http://x').pathname.split('/').at(-1) ?? '')
      if (route === undefined) {
        response.writeHead(404).end()
        return
      }
      route(request, response, body)
    })
  })
  routes.set('ok', (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
  })
  routes.set('sse', (_request, response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream' })
    response.write('data: {"a":1}\n\n')
    setTimeout(() => response.end('data: [DONE]\n\n'), 30)
  })
  routes.set('busy', (_request, response) => {
    response
      .writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' })
      .end(
        '{"object": "error", "message": "slow down", "type": "RateLimitError", "param": null, "code": 429}',
      )
  })
  routes.set('down', (_request, response) => {
    response.writeHead(503, { 'content-type': 'text/plain' }).end('Service Unavailable')
  })
  routes.set('empty-error', (_request, response) => {
    response.writeHead(500).end()
  })
  routes.set('slow', (_request, response) => {
    setTimeout(() => response.writeHead(200).end('{}'), 400)
  })
  routes.set('stall', () => {
    // never answers: the client aborts or times out
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

const majors: Array<[string, OpenAIClientClass, string]> = [
  ['openai 7', OpenAI7, VERSION_7],
  ['openai 6', OpenAI6, VERSION_6],
]

async function failureOf(promise: Promise<unknown>): Promise<AdapterFailure> {
  const error = await promise.then(
    () => {
      throw new Error('expected the request to fail')
    },
    (caught: unknown) => caught,
  )
  expect(error).toBeInstanceOf(AdapterError)
  return (error as AdapterError).failure
}

describe.each(majors)('OpenAIAdapter on %s', (_name, clientClass, version) => {
  const adapter = (settings: Partial<ConstructorParameters<typeof OpenAIAdapter>[0]> = {}) =>
    new OpenAIAdapter({ apiKey: 'sk-contract', timeoutMs: 5_000, ...settings }, clientClass)
  const signal = () => new AbortController().signal

  it('is the major it claims to be', () => {
    expect(version.split('.')[0]).toBe(_name.at(-1))
  })

  it('sends the JSON body with the auth header and the default headers to the exact URL, path prefix kept', async () => {
    const url = `${origin}/proxy/rollout/r1/attempt/0/mode/train/openai/v1/ok`
    const response = await adapter({ defaultHeaders: { 'x-rollout-id': 'r1' } }).send({
      method: 'post',
      url,
      body: { model: 'm', n: 1 },
      signal: signal(),
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ ok: true })
    const request = seen.at(-1)!
    expect(request.method).toBe('POST')
    expect(request.url).toBe('/proxy/rollout/r1/attempt/0/mode/train/openai/v1/ok')
    expect(request.headers.authorization).toBe('Bearer sk-contract')
    expect(request.headers['x-rollout-id']).toBe('r1')
    expect(request.headers['content-type']).toBe('application/json')
    expect(JSON.parse(request.body)).toEqual({ model: 'm', n: 1 })
  })

  it('sends a GET without a body', async () => {
    const response = await adapter().send({ method: 'get', url: `${origin}/prefix/ok`, signal: signal() })
    expect(response.status).toBe(200)
    expect(seen.at(-1)).toMatchObject({ method: 'GET', url: '/prefix/ok', body: '' })
  })

  it('returns a 2xx stream unread, so its body arrives piece by piece', async () => {
    const response = await adapter().send({
      method: 'post',
      url: `${origin}/v1/sse`,
      body: {},
      stream: true,
      signal: signal(),
    })
    expect(response.bodyUsed).toBe(false)
    expect(await response.text()).toBe('data: {"a":1}\n\ndata: [DONE]\n\n')
  })

  it('uses the injected fetch for every request', async () => {
    const urls: string[] = []
    const injected: typeof fetch = (input, init) => {
      urls.push(String(input instanceof Request ? input.url : input))
      return fetch(input, init)
    }
    await adapter({ fetch: injected }).send({ method: 'get', url: `${origin}/a/ok`, signal: signal() })
    expect(urls).toEqual([`${origin}/a/ok`])
  })

  it('gives an error status with its headers and raw body, sent once (the SDK never retries)', async () => {
    const before = seen.length
    const failure = await failureOf(
      adapter().send({ method: 'post', url: `${origin}/busy`, body: {}, signal: signal() }),
    )
    expect(failure.kind).toBe('status')
    if (failure.kind !== 'status') return
    expect(failure.status).toBe(429)
    expect(failure.headers.get('retry-after')).toBe('7')
    expect(failure.body).toBe(
      '{"object": "error", "message": "slow down", "type": "RateLimitError", "param": null, "code": 429}',
    )
    const down = await failureOf(
      adapter().send({ method: 'post', url: `${origin}/down`, body: {}, signal: signal() }),
    )
    expect(down).toMatchObject({ kind: 'status', status: 503, body: 'Service Unavailable' })
    const empty = await failureOf(
      adapter().send({ method: 'get', url: `${origin}/empty-error`, signal: signal() }),
    )
    expect(empty).toMatchObject({ kind: 'status', status: 500, body: '' })
    expect(seen.length - before).toBe(3)
  })

  it('times out when no headers arrive within timeoutMs, and only then', async () => {
    const started = Date.now()
    const failure = await failureOf(
      adapter({ timeoutMs: 100 }).send({
        method: 'post',
        url: `${origin}/stall`,
        body: {},
        signal: signal(),
      }),
    )
    expect(failure).toEqual({ kind: 'timeout' })
    expect(Date.now() - started).toBeGreaterThanOrEqual(90)
    const slow = await adapter({ timeoutMs: 2_000 }).send({
      method: 'get',
      url: `${origin}/slow`,
      signal: signal(),
    })
    expect(slow.status).toBe(200)
  })

  it('reports a refused connection with fetch’s own error as the cause', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))
    const failure = await failureOf(
      adapter().send({ method: 'get', url: `http://127.0.0.1:${port}/ok`, signal: signal() }),
    )
    expect(failure.kind).toBe('connection')
    if (failure.kind !== 'connection') return
    expect(failure.cause).toBeInstanceOf(TypeError)
    expect(String((failure.cause as TypeError).cause)).toContain('ECONNREFUSED')
  })

  it('aborts before sending, while waiting for headers, and while the body is read', async () => {
    const early = new AbortController()
    early.abort(new Error('early'))
    const before = seen.length
    expect(
      await failureOf(adapter().send({ method: 'get', url: `${origin}/ok`, signal: early.signal })),
    ).toEqual({
      kind: 'aborted',
    })
    expect(seen.length).toBe(before)

    const waiting = new AbortController()
    setTimeout(() => waiting.abort(new Error('enough')), 50)
    expect(
      await failureOf(
        adapter().send({ method: 'post', url: `${origin}/stall`, body: {}, signal: waiting.signal }),
      ),
    ).toEqual({ kind: 'aborted' })

    const reading = new AbortController()
    const response = await adapter().send({
      method: 'post',
      url: `${origin}/sse`,
      body: {},
      stream: true,
      signal: reading.signal,
    })
    const reader = response.body!.getReader()
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('data: {"a":1}\n\n')
    reading.abort(new Error('stop reading'))
    await expect(reader.read()).rejects.toBeDefined()
  })
})
