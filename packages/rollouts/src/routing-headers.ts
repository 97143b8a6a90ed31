import { createHash } from 'node:crypto'
import { OptionReader } from '@vllm-tito/spec'

/**
 * The default sticky-routing header. vLLM's router (`vllm-project/router`, the one SkyRL starts) hashes on it
 * first; the vLLM production-stack router reads it with `--routing-logic session --session-key x-session-id`.
 * SGLang's model gateway (slime) reads `X-SMG-Routing-Key` instead: set `routing.header` to it.
 */
export const DEFAULT_ROUTING_HEADER = 'X-Session-ID'

/** The header vLLM's own data-parallel API server reads to pin a request to one engine (an integer rank). */
export const DATA_PARALLEL_RANK_HEADER = 'X-data-parallel-rank'

/** How a rollout's model calls are pinned to one server, so its turns hit the same prefix cache. */
export interface RoutingOptions {
  /** The header carrying the rollout id on every model call, or `null` for none. Default `X-Session-ID`. */
  header: string | null
  /**
   * vLLM's data-parallel size behind one API server (`--data-parallel-size`): when set, every call also sends
   * `X-data-parallel-rank` = sha256(rollout id) mod this size, so vLLM's internal balancer keeps the rollout
   * on one engine. Default: not sent.
   */
  dataParallelSize: number | null
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/

/** Reads a `routing` option; `where` names the call in errors. */
export function readRoutingOptions(where: string, options: unknown): RoutingOptions {
  const read = new OptionReader(`${where} routing`, options).rejectUnknown(['header', 'dataParallelSize'])
  const header =
    read.raw('header') === null
      ? null
      : (read.custom('header', 'an HTTP header name or null', isHeaderName) ?? DEFAULT_ROUTING_HEADER)
  const dataParallelSize = read.integer('dataParallelSize', { minimum: 1, maximum: 65_536 }) ?? null
  return { header, dataParallelSize }
}

/** The headers of every model call of rollout `rolloutId`. */
export function routingHeaders(rolloutId: string | number, options: RoutingOptions): Record<string, string> {
  const headers: Record<string, string> = {}
  // header values must be printable ASCII; any other id is sent percent-encoded (still one stable key)
  const key = PRINTABLE_ASCII.test(String(rolloutId)) ? String(rolloutId) : encodeURIComponent(rolloutId)
  if (options.header !== null) headers[options.header] = key
  if (options.dataParallelSize !== null) {
    headers[DATA_PARALLEL_RANK_HEADER] = String(dataParallelRank(key, options.dataParallelSize))
  }
  return headers
}

/** sha256 of the id, its first 8 bytes as an unsigned integer, modulo `size` (Agent Lightning's pinning rule). */
export function dataParallelRank(key: string, size: number): number {
  const digest = createHash('sha256').update(key, 'utf8').digest()
  return Number(digest.readBigUInt64BE(0) % BigInt(size))
}

function isHeaderName(value: unknown): value is string {
  return typeof value === 'string' && HEADER_NAME.test(value)
}
