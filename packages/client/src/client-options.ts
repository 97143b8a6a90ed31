import { type ClientCallObserver, isPlainObject, OptionReader } from '@vllm-tito/spec'
import type { TokenIdPolicy } from './token-id-policy'
import type { VLLMClientOptions } from './vllm-client'

/** {@link VLLMClientOptions} checked, with the defaults filled in and the base URL reduced to the root. */
export interface ClientSettings {
  /** Server root: origin plus any path prefix, without `/v1`, a trailing slash or credentials. */
  root: string
  /** `apiKey`, default `'EMPTY'`. */
  apiKey: string
  /** `timeoutMs` in milliseconds, default 600 000. */
  timeoutMs: number
  /** `maxRetries`, default 2. */
  maxRetries: number
  /** `fetch`, when given. */
  fetch: typeof globalThis.fetch | undefined
  /** `defaultHeaders`, when given. */
  defaultHeaders: Record<string, string> | undefined
  /** `requireTokenIds` and `onMismatch`, the defaults of every call. */
  policy: TokenIdPolicy
  /** `observer`, when given. */
  observer: ClientCallObserver | undefined
}

const WHERE = 'new VLLMClient'
const KNOWN_OPTIONS = [
  'baseUrl',
  'apiKey',
  'timeoutMs',
  'maxRetries',
  'fetch',
  'defaultHeaders',
  'requireTokenIds',
  'onMismatch',
  'observer',
]
const OBSERVER_METHODS = ['onAttempt', 'onRetry', 'onRecords', 'onError'] as const

/** Reads the options of `new VLLMClient`; throws `InvalidOptionError` naming the first bad or unknown one. */
export function readClientOptions(options: VLLMClientOptions): ClientSettings {
  const read = new OptionReader(WHERE, options).rejectUnknown(KNOWN_OPTIONS)
  const baseUrl = read.string('baseUrl', { required: true })
  return {
    root: rootOf(baseUrl, read),
    // vLLM without --api-key accepts any key
    apiKey: read.string('apiKey', { nonEmpty: true }) ?? 'EMPTY',
    timeoutMs: read.positiveNumber('timeoutMs') ?? 600_000,
    maxRetries: read.integer('maxRetries') ?? 2,
    fetch: read.function<typeof globalThis.fetch, { required?: true }>('fetch'),
    defaultHeaders: read.custom(
      'defaultHeaders',
      'an object of header names to string values',
      isHeaderRecord,
    ),
    policy: {
      requireTokenIds: read.boolean('requireTokenIds') ?? false,
      onMismatch: read.oneOf('onMismatch', ['flag', 'throw']) ?? 'flag',
    },
    observer: read.custom(
      'observer',
      `a ClientCallObserver (an object with one or more of the methods ${OBSERVER_METHODS.join(', ')})`,
      isObserver,
    ),
  }
}

/** The root of `baseUrl`: origin and path prefix, with a trailing `/v1` and slashes removed. */
function rootOf(baseUrl: string, read: OptionReader): string {
  let url: URL
  try {
    url = new URL(baseUrl)
  } catch {
    return read.fail('baseUrl', '`baseUrl` is not an absolute URL (expected e.g. http://127.0.0.1:8000)')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    read.fail('baseUrl', `\`baseUrl\` must use http or https, not ${url.protocol}`)
  }
  if (url.username !== '' || url.password !== '') {
    // credentials in the URL would end up in error messages; they belong in apiKey or defaultHeaders
    read.fail('baseUrl', '`baseUrl` must not contain credentials; use `apiKey` or `defaultHeaders`')
  }
  if (url.search !== '' || url.hash !== '') {
    read.fail(
      'baseUrl',
      '`baseUrl` must not have a query or a fragment: every endpoint path is appended to it',
    )
  }
  const path = url.pathname.replace(/\/+$/, '').replace(/\/v1$/, '')
  return `${url.origin}${path}`
}

function isHeaderRecord(value: unknown): value is Record<string, string> {
  return isPlainObject(value) && Object.values(value).every((header) => typeof header === 'string')
}

/**
 * An object whose observer methods, where present, are functions, with at least one of them: an object with
 * none (a `TokenRecordObserver`'s `onRecord`, a misspelt name) would observe nothing at all.
 */
function isObserver(value: unknown): value is ClientCallObserver {
  if (typeof value !== 'object' || value === null) return false
  const methods = OBSERVER_METHODS.map((method) => (value as Record<string, unknown>)[method])
  return (
    methods.some((method) => method !== undefined) &&
    methods.every((method) => method === undefined || typeof method === 'function')
  )
}
