import { createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import { testIo } from '../__fixtures__/command-io'
import { serveCommand } from './serve-command'

/** Listening TCP servers of this process (the embedded mock is one while it runs). */
const listeningServers = () =>
  process.getActiveResourcesInfo().filter((resource) => resource === 'TCPServerWrap').length

describe('vllm-tito serve', () => {
  it('stops its embedded mock when the service cannot listen, so the process can exit with the error', async () => {
    const taken = createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    const { port } = taken.address() as { port: number }
    try {
      const before = listeningServers()
      const io = testIo()
      await expect(serveCommand(['--embedded-mock', '--port', String(port)], io)).rejects.toThrow(
        /EADDRINUSE/,
      )
      // a mock left listening would keep the CLI's process alive after it printed the error (the handle of
      // the server that failed to listen goes within a tick or two)
      const deadline = Date.now() + 5_000
      while (listeningServers() > before && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      expect(listeningServers()).toBe(before)
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()))
    }
  })
})
