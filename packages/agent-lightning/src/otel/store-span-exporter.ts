import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { OptionReader } from '@vllm-tito/spec'
import { ATTEMPT_ID_ATTRIBUTE, ROLLOUT_ID_ATTRIBUTE } from './span-contract'

/** Which rollout attempt the spans belong to. */
export interface RolloutAttemptIds {
  /** The rollout id the store files the spans under. */
  rolloutId: string
  /** The attempt id (a string, as the store keeps it). */
  attemptId: string
}

/**
 * The resource attributes an Agent Lightning 0.x store needs to file spans: `agentlightning.rollout_id` and
 * `agentlightning.attempt_id` (the store drops spans that carry neither as resource nor as span attributes).
 * Pass them to the tracer provider's resource, e.g. `resourceFromAttributes(...)` from
 * `@opentelemetry/resources`.
 *
 * @throws InvalidOptionError when an id is missing or empty.
 */
export function agentLightningResourceAttributes(ids: RolloutAttemptIds): Record<string, string> {
  const read = new OptionReader('agentLightningResourceAttributes', ids).rejectUnknown([
    'rolloutId',
    'attemptId',
  ])
  return {
    [ROLLOUT_ID_ATTRIBUTE]: read.string('rolloutId', { required: true, nonEmpty: true }),
    [ATTEMPT_ID_ATTRIBUTE]: read.string('attemptId', { required: true, nonEmpty: true }),
  }
}

/** Options of {@link createStoreSpanExporter}. */
export interface StoreSpanExporterOptions {
  /**
   * The store server's root URL, e.g. `http://localhost:4747` (a URL ending in `/v1/agl`, the store's REST
   * prefix, or in `/v1/traces` is accepted too). Spans go to `<root>/v1/traces`.
   */
  storeUrl: string
  /** Extra request headers (e.g. an authorization header in front of the store). */
  headers?: Record<string, string>
  /** Time allowed for one export request, in milliseconds. Default: the exporter's (10000). */
  timeoutMillis?: number
}

/**
 * An OTLP/HTTP protobuf span exporter (the real `@opentelemetry/exporter-trace-otlp-proto`) aimed at an
 * Agent Lightning 0.x store's `/v1/traces`, the only format the store accepts (`application/x-protobuf`).
 * Integer attributes, such as the recorder's `prompt_token_ids`, travel as OTLP `int_value`s, which the store
 * decodes to Python ints.
 *
 * @throws InvalidOptionError for a missing or malformed `storeUrl` or bad headers.
 */
export function createStoreSpanExporter(options: StoreSpanExporterOptions): OTLPTraceExporter {
  const read = new OptionReader('createStoreSpanExporter', options).rejectUnknown([
    'storeUrl',
    'headers',
    'timeoutMillis',
  ])
  const storeUrl = read.string('storeUrl', { required: true, nonEmpty: true })
  const headers = read.object('headers')
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (typeof value !== 'string') read.fail('headers', `header \`${name}\` must be a string`)
  }
  const timeoutMillis = read.integer('timeoutMillis', { minimum: 1 })
  return new OTLPTraceExporter({
    url: tracesUrl(storeUrl, read),
    ...(headers === undefined ? {} : { headers: headers as Record<string, string> }),
    ...(timeoutMillis === undefined ? {} : { timeoutMillis }),
  })
}

function tracesUrl(storeUrl: string, read: OptionReader): string {
  let url: URL
  try {
    url = new URL(storeUrl)
  } catch {
    return read.fail('storeUrl', `option \`storeUrl\` must be a URL, got ${JSON.stringify(storeUrl)}`)
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.hash !== '') {
    read.fail(
      'storeUrl',
      `option \`storeUrl\` must be an http(s) URL without query, got ${JSON.stringify(storeUrl)}`,
    )
  }
  const root = url.pathname.replace(/\/+$/, '').replace(/\/v1\/(agl|traces)$/, '')
  url.pathname = `${root}/v1/traces`
  return url.href
}
