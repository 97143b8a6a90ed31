import type { Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

/** A test server listening on loopback. */
export interface LoopbackServer {
  /** `http://127.0.0.1:<port>`. */
  origin: string
  /** Stops listening and ends every open connection (an answer the server holds back included). */
  close(): Promise<void>
}

/** Starts `server` on a free port of 127.0.0.1, keeping track of its connections so `close` can end them. */
export async function listenOnLoopback(server: Server): Promise<LoopbackServer> {
  const sockets = new Set<Socket>()
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      }),
  }
}
