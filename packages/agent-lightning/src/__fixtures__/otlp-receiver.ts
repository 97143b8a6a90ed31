import { createServer } from 'node:http'
import { createRequire } from 'node:module'
import { gunzipSync } from 'node:zlib'
import { listenOnLoopback } from './loopback-server'

/** An OTLP `AnyValue` as protobufjs' `toObject` gives it: exactly one key is set. */
export interface DecodedAnyValue {
  stringValue?: string
  boolValue?: boolean
  intValue?: string
  doubleValue?: number
  arrayValue?: { values?: DecodedAnyValue[] }
  kvlistValue?: { values?: DecodedKeyValue[] }
  bytesValue?: string
}

/** An OTLP `KeyValue`. */
export interface DecodedKeyValue {
  key: string
  value?: DecodedAnyValue
}

/** An OTLP span, decoded (ids as base64 strings, times as decimal strings). */
export interface DecodedSpan {
  name: string
  traceId: string
  spanId: string
  parentSpanId?: string
  kind?: number
  attributes?: DecodedKeyValue[]
  status?: { code?: number; message?: string }
}

/** One `ResourceSpans` of an export request, decoded. */
export interface DecodedResourceSpans {
  resource?: { attributes?: DecodedKeyValue[] }
  scopeSpans?: Array<{ scope?: { name?: string }; spans?: DecodedSpan[] }>
}

/** A loopback stand-in for the store's `/v1/traces`, with the OpenTelemetry project's protobuf decoder. */
export interface OtlpReceiver {
  /** `http://127.0.0.1:<port>` (the store root; spans arrive at `/v1/traces`). */
  origin: string
  /** Every decoded export request, in arrival order. */
  exports: DecodedResourceSpans[][]
  /** Content types of the requests (the store accepts only `application/x-protobuf`). */
  contentTypes: string[]
  /** Request paths. */
  paths: string[]
  close(): Promise<void>
}

interface GeneratedMessage {
  decode(bytes: Uint8Array): unknown
  toObject(message: unknown, options: Record<string, unknown>): Record<string, unknown>
}

// the static protobufjs module generated from the OTLP .proto files, as it shipped in
// @opentelemetry/otlp-transformer 0.215.0 (newer versions encode by hand and ship no decoder)
const generated = createRequire(import.meta.url)(
  'otlp-transformer-protobufjs/build/src/generated/root.js',
) as {
  opentelemetry: { proto: { collector: { trace: { v1: { ExportTraceServiceRequest: GeneratedMessage } } } } }
}
const ExportTraceServiceRequest = generated.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest

/**
 * Decodes a binary `ExportTraceServiceRequest` into plain objects: only fields present on the wire are
 * set, 64-bit integers as decimal strings, so an attribute's wire type (`intValue` or `doubleValue`) shows.
 */
export function decodeTraceRequest(bytes: Uint8Array): DecodedResourceSpans[] {
  const message = ExportTraceServiceRequest.decode(bytes)
  const plain = ExportTraceServiceRequest.toObject(message, { longs: String, bytes: String, defaults: false })
  return (plain.resourceSpans as DecodedResourceSpans[] | undefined) ?? []
}

/**
 * Starts the receiver. Like the store (`agentlightning/utils/otlp.py`), it answers 400 to any content type
 * but `application/x-protobuf`, gunzips `Content-Encoding: gzip`, and answers an empty protobuf response.
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const exports: DecodedResourceSpans[][] = []
  const contentTypes: string[] = []
  const paths: string[] = []
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const contentType = (request.headers['content-type'] ?? '').split(';')[0]!.trim()
      contentTypes.push(contentType)
      paths.push(request.url ?? '')
      if (request.url !== '/v1/traces') {
        response.writeHead(404, { 'content-type': 'application/json' }).end('{"detail":"Not Found"}')
        return
      }
      if (contentType !== 'application/x-protobuf') {
        response.writeHead(400, { 'content-type': 'application/x-protobuf' }).end()
        return
      }
      const raw = Buffer.concat(chunks)
      const body = request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw
      exports.push(decodeTraceRequest(body))
      response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end()
    })
  })
  const listening = await listenOnLoopback(server)
  return {
    origin: listening.origin,
    exports,
    contentTypes,
    paths,
    close: listening.close,
  }
}

/**
 * Converts decoded attributes the way the store does (`_any_value_to_python`): `intValue` → integer,
 * `doubleValue` → float, arrays element by element. Integers come back as `{ int: n }` and floats as
 * `{ double: n }`, so a test sees which wire type each number had.
 */
export function attributeMap(attributes: DecodedKeyValue[] | undefined): Record<string, unknown> {
  const map: Record<string, unknown> = {}
  for (const entry of attributes ?? []) map[entry.key] = typedValue(entry.value ?? {})
  return map
}

function typedValue(value: DecodedAnyValue): unknown {
  if (value.stringValue !== undefined) return value.stringValue
  if (value.boolValue !== undefined) return value.boolValue
  if (value.intValue !== undefined) return { int: Number(value.intValue) }
  if (value.doubleValue !== undefined) return { double: value.doubleValue }
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(typedValue)
  if (value.kvlistValue !== undefined) return attributeMap(value.kvlistValue.values)
  if (value.bytesValue !== undefined) return { bytes: value.bytesValue }
  return null
}
