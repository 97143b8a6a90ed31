import { createServer, request as httpRequest } from 'node:http'
import { closeHttp, listenHttp } from '@vllm-tito/spec/internal'

/** A loopback HTTP proxy in front of a server, counting the requests still open on it. */
export interface CountingProxy {
  /** `http://127.0.0.1:<port>`. */
  baseUrl: string
  /** Requests the proxy received whose response has not ended and whose client has not gone away. */
  readonly inFlight: number
  /** Requests received so far. */
  readonly received: number
  /** Resolves once no request is in flight, or rejects after `timeoutMs`. */
  whenIdle(timeoutMs: number): Promise<void>
  /** Stops the proxy and drops its connections. */
  close(): Promise<void>
}

/**
 * Forwards every request to `target` and counts the open ones. A request stops counting when its response
 * ends or its client closes the connection — which is what a cancelled rollout must do, so tests can check
 * that aborting really ends the HTTP calls the model server sees. Paths in `notFound` are answered 404
 * without forwarding (a server without that endpoint, e.g. `/tokenize`); paths in `hang` are never answered
 * (a server that stalls there) until their client goes away.
 */
export async function startCountingProxy(
  target: string,
  options: { notFound?: readonly string[]; hang?: readonly string[] } = {},
): Promise<CountingProxy> {
  const targetUrl = new URL(target)
  let inFlight = 0
  let received = 0
  const idleWaiters = new Set<() => void>()
  const server = createServer((incoming, outgoing) => {
    const path = (incoming.url ?? '').split('?')[0]!
    if (options.notFound?.includes(path)) {
      incoming.resume()
      outgoing.writeHead(404, { 'content-type': 'application/json' })
      outgoing.end(JSON.stringify({ detail: 'Not Found' }))
      return
    }
    received += 1
    inFlight += 1
    let counted = true
    const done = () => {
      if (!counted) return
      counted = false
      inFlight -= 1
      if (inFlight === 0) for (const wake of idleWaiters) wake()
    }
    if (options.hang?.includes(path)) {
      incoming.resume()
      outgoing.on('close', done)
      return
    }
    const upstream = httpRequest(
      {
        host: targetUrl.hostname,
        port: targetUrl.port,
        method: incoming.method,
        path: incoming.url,
        headers: incoming.headers,
      },
      (response) => {
        outgoing.writeHead(response.statusCode ?? 502, response.headers)
        // a body the server cut off mid-way is cut off for the client too (pipe alone would leave it waiting)
        response.on('close', () => {
          if (!response.complete) outgoing.destroy()
        })
        response.pipe(outgoing)
      },
    )
    upstream.on('error', () => outgoing.destroy())
    // the response closed before it finished: the client went away, so end the upstream request too, as a
    // real proxy does (the request's own 'close' fires as soon as its body is read, so it cannot tell)
    outgoing.on('close', () => {
      if (!outgoing.writableFinished) upstream.destroy()
      done()
    })
    incoming.pipe(upstream)
  })
  const baseUrl = await listenHttp(server, 0, '127.0.0.1')
  return {
    baseUrl,
    get inFlight() {
      return inFlight
    },
    get received() {
      return received
    },
    whenIdle(timeoutMs) {
      if (inFlight === 0) return Promise.resolve()
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          idleWaiters.delete(wake)
          reject(new Error(`${inFlight} request(s) still in flight after ${timeoutMs} ms`))
        }, timeoutMs)
        const wake = () => {
          clearTimeout(timer)
          idleWaiters.delete(wake)
          resolve()
        }
        idleWaiters.add(wake)
      })
    },
    close: () => closeHttp(server),
  }
}
