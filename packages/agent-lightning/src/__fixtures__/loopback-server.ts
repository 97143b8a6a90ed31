import type { Server } from 'node:http'
import { closeHttp, listenHttp } from '@vllm-tito/spec/internal'

/** A test server listening on loopback. */
export interface LoopbackServer {
  /** `http://127.0.0.1:<port>`. */
  origin: string
  /** Stops listening and ends every open connection (an answer the server holds back included). */
  close(): Promise<void>
}

/** Starts `server` on a free port of 127.0.0.1; `close` ends its open connections too. */
export async function listenOnLoopback(server: Server): Promise<LoopbackServer> {
  return { origin: await listenHttp(server, 0, '127.0.0.1'), close: () => closeHttp(server) }
}
