import { createServer } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { closeHttp, listenHttp } from './listen'

const servers: ReturnType<typeof createServer>[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => (server.listening ? closeHttp(server) : undefined)))
})

function server() {
  const created = createServer((_request, response) => response.end('ok'))
  servers.push(created)
  return created
}

describe('listenHttp', () => {
  it('resolves with the base URL of a free loopback port that answers', async () => {
    const url = await listenHttp(server(), 0, '127.0.0.1')
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(await (await fetch(url)).text()).toBe('ok')
  })

  it('puts an IPv6 host in brackets', async () => {
    const url = await listenHttp(server(), 0, '::1').catch(() => null)
    // machines without IPv6 loopback cannot listen there; the bracket rule is only checked where they can
    if (url !== null) expect(url).toMatch(/^http:\/\/\[::1\]:\d+$/)
  })

  it('rejects with the listen error when the port is taken', async () => {
    const first = await listenHttp(server(), 0, '127.0.0.1')
    const port = Number(new URL(first).port)
    await expect(listenHttp(server(), port, '127.0.0.1')).rejects.toMatchObject({ code: 'EADDRINUSE' })
  })
})

describe('closeHttp', () => {
  it('stops the server even while a keep-alive connection is open', async () => {
    const created = server()
    const url = await listenHttp(created, 0, '127.0.0.1')
    await fetch(url) // undici keeps the socket alive
    await closeHttp(created)
    expect(created.listening).toBe(false)
    await expect(fetch(url)).rejects.toThrow()
  })
})
