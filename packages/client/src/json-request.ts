import { APICallError } from '@vllm-tito/spec'
import { CallAbort } from './call-abort'
import type { TransportRequest, TransportResponse, VLLMTransport } from './vllm-transport'
import { snippet } from './wire-errors'

/** A request whose answer is one JSON body (non-streaming calls and the utility endpoints). */
export interface JsonRequest extends Omit<TransportRequest, 'signal' | 'stream'> {
  /** The caller's signal; aborting it rejects with its reason. */
  signal?: AbortSignal | undefined
}

/** The parsed body and the response it came with. */
export interface JsonAnswer {
  /** The body, parsed. */
  parsed: unknown
  /** The response and its timing. */
  started: TransportResponse
}

/**
 * Sends `request` and reads its JSON body, `timeoutMs` bounding the body read as it bounds the wait for the
 * headers. A body that cannot be read or parsed is a non-retryable {@link APICallError} naming the endpoint.
 */
export async function requestJson(
  transport: VLLMTransport,
  request: JsonRequest,
  timeoutMs: number,
): Promise<JsonAnswer> {
  const abort = new CallAbort(request.signal)
  const started = await transport.send({ ...request, signal: abort.signal })
  const deadline = abort.deadline(timeoutMs, `no body within ${timeoutMs} ms`)
  let text: string
  try {
    text = await started.response.text()
  } catch (error) {
    if (abort.cause === 'caller') throw abort.reasonError
    const reason =
      abort.cause === 'timeout' ? `no body within ${timeoutMs} ms (timeoutMs)` : 'the connection dropped'
    throw new APICallError({
      message: `vLLM ${request.path}: ${reason} while reading the response`,
      isRetryable: false,
      path: request.path,
      cause: error,
    })
  } finally {
    deadline.cancel()
  }
  try {
    return { parsed: JSON.parse(text), started }
  } catch {
    throw malformedBody(request.path, 'not JSON', text)
  }
}

/** The error for a 2xx body that is not what the endpoint returns; the problem and a snippet are named. */
export function malformedBody(path: string, problem: string, received: unknown): APICallError {
  const text = typeof received === 'string' ? received : (JSON.stringify(received) ?? String(received))
  return new APICallError({
    message: `vLLM ${path} returned a malformed body (${problem}): ${snippet(text, 200)}`,
    statusCode: 200,
    isRetryable: false,
    responseBody: text,
    path,
  })
}
