import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  HttpError,
  type ParsedBody,
  parseModelBody,
  RequestValidationError,
  sendHttpError,
  sendInternalServerError,
  UnhandledServerError,
  unquotePath,
} from './fastapi-responses'
import type { GatewayState } from './gateway-state'
import type { GatewaySettings } from './mock-agent-lightning-options'
import { INVALID, type Location, type ValidationIssue, type Validator } from './pydantic-validation'

/** What a route handler gets. */
export interface RouteContext {
  state: GatewayState
  settings: GatewaySettings
  /** Path parameters, from the percent-decoded path. */
  params: Record<string, string>
  query: URLSearchParams
  /** The body as FastAPI hands it to a body model (only for routes with `bodyModel`). */
  body: ParsedBody
  /** The raw body. */
  rawBody: Buffer
  request: IncomingMessage
  response: ServerResponse
}

/** One route of the gateway, in the order FastAPI registers them. */
export interface Route {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE'
  /** Starlette path syntax: `{name}` matches one segment, `{name:path}` the rest. */
  path: string
  /** Whether the route has a pydantic body parameter (JSON errors are a 422 before the key check). */
  bodyModel: boolean
  /** Whether the API key is checked (everything but `/healthz`). */
  auth: boolean
  handle(context: RouteContext): Promise<void> | void
}

interface CompiledRoute extends Route {
  pattern: RegExp
}

/** Compiles routes once. */
export function compileRoutes(routes: readonly Route[]): CompiledRoute[] {
  return routes.map((route) => {
    const source = route.path.replace(/\{(\w+)(:path)?\}/g, (_match, name: string, path?: string) =>
      path ? `(?<${name}>.*)` : `(?<${name}>[^/]+)`,
    )
    return { ...route, pattern: new RegExp(`^${source}$`) }
  })
}

/**
 * Routes one request as Starlette and FastAPI do: the first route matching path and method runs; a path that
 * matches only with another method is a 405; an unmatched path whose trailing-slash twin matches is
 * redirected (307); anything else is `{"detail":"Not Found"}`. For a matched route: body JSON errors (body
 * models only), then the API key (401 `Invalid or missing API key`), then the handler.
 */
export async function dispatch(
  routes: readonly CompiledRoute[],
  state: GatewayState,
  settings: GatewaySettings,
  request: IncomingMessage,
  response: ServerResponse,
  rawBody: Buffer,
): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://gateway.invalid')
  const path = unquotePath(url.pathname)
  const method = request.method === 'HEAD' ? 'GET' : (request.method ?? 'GET')
  try {
    let partial: CompiledRoute | undefined
    for (const route of routes) {
      const match = route.pattern.exec(path)
      if (!match) continue
      if (route.method !== method) {
        partial ??= route
        continue
      }
      const body = route.bodyModel
        ? parseModelBody(rawBody, request.headers['content-type'])
        : ({ kind: 'absent' } as const)
      if (route.auth) checkKey(settings.key, request)
      await route.handle({
        state,
        settings,
        params: { ...match.groups },
        query: url.searchParams,
        body,
        rawBody,
        request,
        response,
      })
      return
    }
    if (partial !== undefined) {
      throw new HttpError(405, 'Method Not Allowed', {
        allow: partial.method === 'GET' ? 'GET, HEAD' : partial.method,
      })
    }
    const twin = path.endsWith('/') ? path.slice(0, -1) : `${path}/`
    if (path !== '/' && routes.some((route) => route.pattern.test(twin))) {
      const host = request.headers.host ?? `${settings.host}:${settings.port}`
      response.writeHead(307, {
        location: `http://${host}${encodeURI(twin)}${url.search}`,
        'content-length': 0,
      })
      response.end()
      return
    }
    throw new HttpError(404, 'Not Found')
  } catch (error) {
    if (error instanceof HttpError) sendHttpError(response, error)
    else if (error instanceof UnhandledServerError) sendInternalServerError(response)
    else throw error
  }
}

/** The gateway's `verify_key` dependency: `Authorization: Bearer <key>` or `x-api-key: <key>`. */
function checkKey(key: string, request: IncomingMessage): void {
  if (key === '') return
  const authorization = request.headers.authorization ?? ''
  if (authorization.startsWith('Bearer ') && authorization.slice(7) === key) return
  if ((request.headers['x-api-key'] ?? '') === key) return
  throw new HttpError(401, 'Invalid or missing API key')
}

/** Validates a required body against a model; a missing body or any issue is a 422. */
export function validateBody<T>(body: ParsedBody, validator: Validator<T>): T {
  if (body.kind === 'absent') {
    throw new RequestValidationError([{ type: 'missing', loc: ['body'], msg: 'Field required', input: null }])
  }
  return validated(body.value, ['body'], validator)
}

/** Validates one value, throwing a 422 with every issue found. */
export function validated<T>(value: unknown, loc: Location, validator: Validator<T>): T {
  const issues: ValidationIssue[] = []
  const result = validator(value, loc, issues)
  if (result === INVALID || issues.length > 0) throw new RequestValidationError(issues)
  return result
}

/** A scalar query parameter (Starlette takes the last value), validated; `fallback` when absent. */
export function queryValue<T>(query: URLSearchParams, name: string, validator: Validator<T>, fallback: T): T {
  const values = query.getAll(name)
  if (values.length === 0) return fallback
  return validated(values.at(-1), ['query', name], validator)
}
