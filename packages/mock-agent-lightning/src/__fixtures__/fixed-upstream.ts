import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A loopback upstream that answers every request with one fixed response (status 0: never answers). */
export async function fixedUpstream(status: number, contentType: string, body: string) {
  let hits = 0
  const server = createServer((request, response) => {
    request.resume()
    request.on('end', () => {
      hits += 1
      if (status === 0) return
      response.writeHead(status, { 'content-type': contentType }).end(body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}/v1`,
    hits: () => hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
