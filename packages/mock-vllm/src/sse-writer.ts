import type { ServerResponse } from 'node:http'
import type { MockFault } from './mock-vllm-options'
import { streamErrorEvents } from './vllm-errors'

/** How one stream is paced and broken. */
export interface StreamPlan {
  firstTokenDelayMs: number
  interChunkDelayMs: number
  faults: MockFault[]
  /** Aborted when the client goes away or the server closes: every wait ends at once. */
  signal: AbortSignal
}

/** Bytes gathered before one socket write when chunks are not delayed (fewer syscalls, same bytes). */
const WRITE_BATCH_CHARS = 32 * 1024

/** Resolves after `ms`, or at once when the signal aborts (no timer outlives a closed server). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve()
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer)
      resolve()
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

function waitForDrain(response: ServerResponse, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      response.off('drain', done)
      signal.removeEventListener('abort', done)
      resolve()
    }
    response.on('drain', done)
    signal.addEventListener('abort', done, { once: true })
  })
}

/** Writes and waits until the bytes were handed to the socket, so a reset right after still delivers them. */
function writeThrough(response: ServerResponse, text: string): Promise<void> {
  return new Promise((resolve) => {
    if (text.length === 0 || response.destroyed) resolve()
    else response.write(text, () => resolve())
  })
}

/** Breaks the connection with a TCP RST (what a crashed server or proxy looks like to the client). */
export function resetConnection(response: ServerResponse): void {
  const socket = response.socket
  if (!socket) return
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy()
  else socket.destroy()
}

/** Starts an SSE response with vLLM's headers. */
export function startEventStream(response: ServerResponse, requestId: string): void {
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-request-id': requestId,
  })
  response.flushHeaders()
}

/**
 * Writes `data: <payload>\n\n` events, then `data: [DONE]\n\n`, applying pacing and faults. A fault with
 * `afterChunks: k` fires once k data events were written (or before `[DONE]` when the stream is shorter).
 */
export async function writeEventStream(
  response: ServerResponse,
  payloads: Iterable<string>,
  plan: StreamPlan,
): Promise<void> {
  const { signal } = plan
  const pending = plan.faults.filter((fault) => fault.kind !== 'http-status' && fault.kind !== 'missing-done')
  const missingDone = plan.faults.some((fault) => fault.kind === 'missing-done')
  let buffer = ''
  let written = 0
  let corruptNextIds = false

  const flush = async () => {
    if (buffer.length === 0 || signal.aborted) return
    const ok = response.write(buffer)
    buffer = ''
    if (!ok) await waitForDrain(response, signal)
  }

  /** Applies the faults due now; returns `true` when the stream is over. */
  const applyFaults = async (final: boolean): Promise<boolean> => {
    for (let index = 0; index < pending.length; index += 1) {
      const fault = pending[index]!
      if (!('afterChunks' in fault) || (fault.afterChunks > written && !final)) continue
      pending.splice(index, 1)
      index -= 1
      switch (fault.kind) {
        case 'reset':
          await writeThrough(response, buffer)
          buffer = ''
          resetConnection(response)
          return true
        case 'stall':
          await flush()
          await sleep(fault.ms, signal)
          break
        case 'malformed-chunk':
          buffer += 'data: {not json\n\n'
          break
        case 'mid-stream-error':
          buffer += streamErrorEvents({
            message: fault.message ?? 'The engine failed while generating.',
            type: (fault.code ?? 500) === 400 ? 'BadRequestError' : 'InternalServerError',
            param: null,
            code: fault.code ?? 500,
          })
          await flush()
          response.end()
          return true
        case 'wrong-token-ids-type':
          corruptNextIds = true
          break
      }
    }
    return false
  }

  await sleep(plan.firstTokenDelayMs, signal)
  for (let payload of payloads) {
    if (signal.aborted) return
    if (pending.length > 0 && (await applyFaults(false))) return
    if (corruptNextIds && payload.includes('"token_ids":[')) {
      // the ids arrive as a string instead of an int array
      payload = payload.replace(/"token_ids":\[([^\]]*)\]/, '"token_ids":"$1"')
      corruptNextIds = false
    }
    buffer += `data: ${payload}\n\n`
    written += 1
    if (plan.interChunkDelayMs > 0) {
      await flush()
      await sleep(plan.interChunkDelayMs, signal)
    } else if (buffer.length >= WRITE_BATCH_CHARS) {
      await flush()
    }
  }
  if (signal.aborted) return
  if (pending.length > 0 && (await applyFaults(true))) return
  if (!missingDone) buffer += 'data: [DONE]\n\n'
  response.end(buffer)
}
