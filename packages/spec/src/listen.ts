import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * Starts `server` listening on `host:port` (port 0: a free one) and resolves with its base URL, e.g.
 * `http://127.0.0.1:41234`; rejects with the listen error (a port in use, a bad host). Shared by the project's
 * servers (mock-vllm, the Agent Lightning stand-in, the rollout service) so that they report their address the
 * same way, IPv6 hosts in brackets.
 */
export function listenHttp(server: Server, port: number, host: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      const address = server.address() as AddressInfo
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address
      resolve(`http://${shownHost}:${address.port}`)
    })
  })
}

/**
 * Stops `server`: no new connections, open ones (keep-alive sockets, streams still being written) closed at
 * once. Resolves when the server has stopped.
 */
export function closeHttp(server: Server): Promise<void> {
  const stopped = new Promise<void>((resolve) => server.close(() => resolve()))
  server.closeAllConnections()
  return stopped
}
