/** Test helpers: real HTTP calls to the gateway stand-in over loopback. */

/** A finished HTTP exchange. */
export interface Exchange {
  status: number
  headers: Headers
  text: string
  /** The body parsed as JSON, or `undefined` when it is not JSON. */
  json: unknown
}

/** Options of {@link call}. */
export interface CallOptions {
  method?: string
  /** A value to send as JSON, or a string sent as it is. */
  body?: unknown
  /** The key, sent as `Authorization: Bearer <key>`. */
  key?: string
  headers?: Record<string, string>
}

/** Sends one request to `url + path` and reads the whole answer. */
export async function call(url: string, path: string, options: CallOptions = {}): Promise<Exchange> {
  const headers: Record<string, string> = { ...options.headers }
  if (options.key !== undefined) headers.authorization = `Bearer ${options.key}`
  let body: string | undefined
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body)
    headers['content-type'] ??= 'application/json'
  }
  const response = await fetch(`${url}${path}`, {
    method: options.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    ...(body === undefined ? {} : { body }),
    redirect: 'manual',
  })
  const text = await response.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: response.status, headers: response.headers, text, json }
}

/** Creates one rollout and returns its id. */
export async function createRollout(
  url: string,
  key: string,
  item: Record<string, unknown> = { input: { question: 'What is 2 + 3?', answer: '5' } },
): Promise<string> {
  const created = await call(url, '/api/rollouts', { body: [item], key })
  if (created.status !== 201) throw new Error(`could not create a rollout: ${created.status} ${created.text}`)
  return (created.json as Array<{ rollout_id: string }>)[0]!.rollout_id
}

/** The proxy path of a rollout. */
export function proxyPath(
  rolloutId: string,
  mode = 'train',
  upstream = 'chat/completions',
  attemptId = '0',
): string {
  return `/proxy/rollout/${rolloutId}/attempt/${attemptId}/mode/${mode}/openai/v1/${upstream}`
}
