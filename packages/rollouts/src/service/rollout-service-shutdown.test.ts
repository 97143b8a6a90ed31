import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import type { RolloutFunction } from '../rollout-types'
import { startRolloutService } from './rollout-service'

/** An HTTP exchange on a raw socket: `send` writes, `answer` resolves with all the server sent once it closes. */
function rawExchange(url: string): Promise<{ send(text: string): void; answer: Promise<string> }> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname)
    let text = ''
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8')
    })
    const answer = new Promise<string>((done) => socket.on('close', () => done(text)))
    socket.once('error', reject)
    socket.once('connect', () => resolve({ send: (chunk) => socket.write(chunk), answer }))
  })
}

function delay(ms: number, value: string): Promise<string> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms).unref())
}

describe('rollout service: a request still sending its body when the service shuts down', () => {
  it('starts none of its rollouts once the shutdown cancelled the open ones, and answers 503 draining', async () => {
    let started = 0
    const rollout: RolloutFunction = async (context) => {
      started += 1
      // a rollout that only a cancel ends: the shutdown must never wait for one it did not cancel
      await new Promise((resolve) => context.signal.addEventListener('abort', resolve, { once: true }))
      throw context.signal.reason
    }
    const service = await startRolloutService({
      rollout,
      baseUrl: 'http://127.0.0.1:9',
      modelId: 'm',
      retryAfterSeconds: 2,
    })
    const body = JSON.stringify({ task: { id: 't', question: 'q' }, format: 'verl' })
    const cut = Math.floor(body.length / 2)
    const exchange = await rawExchange(service.url)
    exchange.send(
      `POST /v1/rollouts HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body.slice(0, cut)}`,
    )
    // the headers reach the service before it starts shutting down: the request is open, past the drain check
    await new Promise((resolve) => setTimeout(resolve, 500))
    const closed = service.close({ graceMs: 50 })
    // the grace period runs out and the open requests are cancelled while this one still sends its body
    await new Promise((resolve) => setTimeout(resolve, 300))
    exchange.send(body.slice(cut))
    const answer = await Promise.race([exchange.answer, delay(10_000, 'no answer within 10 s')])
    expect(await Promise.race([closed.then(() => 'closed'), delay(10_000, 'still closing')])).toBe('closed')
    expect(answer).toMatch(/^HTTP\/1\.1 503 /)
    expect(answer.toLowerCase()).toContain('retry-after: 2')
    expect(answer).toContain('"message":"the service shut down before the rollouts finished"')
    expect(started).toBe(0)
  })
})
