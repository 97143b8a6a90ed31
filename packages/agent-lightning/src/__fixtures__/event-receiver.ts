import { createServer, type IncomingHttpHeaders } from 'node:http'
import { listenOnLoopback } from './loopback-server'

/** What the receiver does with one request: answer, drop the connection, or never answer. */
export type ReceiverStep = { status: number; body?: string } | 'reset' | 'hang'

/** One request the receiver got. */
export interface ReceivedRequest {
  method: string
  path: string
  headers: IncomingHttpHeaders
  body: string
}

/** A loopback HTTP server standing in for the gateway's event route, answering from a script of steps. */
export interface EventReceiver {
  /** `http://127.0.0.1:<port>`. */
  origin: string
  /** Every request received, in order. */
  requests: ReceivedRequest[]
  close(): Promise<void>
}

/**
 * Starts the receiver. Request `n` gets `steps[n]`; once the script is used up the last step repeats. The
 * default answer is what the gateway returns for a stored event.
 */
export async function startEventReceiver(steps: ReceiverStep[] = []): Promise<EventReceiver> {
  const requests: ReceivedRequest[] = []
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      requests.push({ method: request.method ?? '', path: request.url ?? '', headers: request.headers, body })
      const step = steps[Math.min(requests.length - 1, steps.length - 1)] ?? storedEventStep(body)
      if (step === 'reset') {
        request.socket.destroy()
        return
      }
      if (step === 'hang') return
      response.writeHead(step.status, { 'content-type': 'application/json' })
      response.end(step.body ?? storedEventBody(body))
    })
  })
  const listening = await listenOnLoopback(server)
  return {
    origin: listening.origin,
    requests,
    close: listening.close,
  }
}

function storedEventStep(body: string): ReceiverStep {
  return { status: 200, body: storedEventBody(body) }
}

/** The gateway's answer to a post: the event with rollout, attempt and timestamp filled in. */
export function storedEventBody(requestBody: string): string {
  const parsed = JSON.parse(requestBody) as { event_type: string; data: unknown }
  return JSON.stringify({
    event_type: parsed.event_type,
    rollout_id: 'rollout-1',
    attempt_id: '0',
    timestamp: 1_790_000_000.5,
    data: parsed.data,
  })
}
