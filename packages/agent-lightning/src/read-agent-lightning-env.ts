import { describeValue } from '@vllm-tito/spec'
import { AgentLightningEnvironmentError, type EnvironmentProblem } from './agent-lightning-errors'

/** Whether the gateway trains on this rollout's calls (`train`) or only evaluates them (`val`). */
export type AgentLightningMode = 'train' | 'val'

/** The three `AGL_*` variables, checked and taken apart. */
export interface AgentLightningEnvironment {
  /**
   * `AGL_OPENAI_BASE_URL` as a normalised URL without a trailing slash:
   * `<gateway>/proxy/rollout/{rollout_id}/attempt/{attempt_id}/mode/{train|val}/openai/v1`. Give it to
   * `VLLMModel` (with `stream: false`): the gateway serves `chat/completions` and `completions` under it.
   */
  baseUrl: string
  /** `AGL_EVENT_URL`, normalised: `<gateway>/api/rollouts/{rollout_id}/attempt/{attempt_id}/events`. */
  eventUrl: string
  /** `AGL_KEY` exactly as set; empty when the gateway runs without a key (authentication off). */
  key: string
  /** The rollout id, percent-decoded from the proxy URL (the gateway decodes the path the same way). */
  rolloutId: string
  /** The attempt id, percent-decoded from the proxy URL (`"0"` for every rollout the controller starts). */
  attemptId: string
  /** The mode segment of the proxy URL. */
  mode: AgentLightningMode
}

const PROXY_SHAPE = '<gateway>/proxy/rollout/{rollout_id}/attempt/{attempt_id}/mode/{train|val}/openai/v1'
const EVENT_SHAPE = '<gateway>/api/rollouts/{rollout_id}/attempt/{attempt_id}/events'
const PROXY_PATH = /\/proxy\/rollout\/([^/]+)\/attempt\/([^/]+)\/mode\/([^/]+)\/openai\/v1$/
const EVENT_PATH = /\/api\/rollouts\/([^/]+)\/attempt\/([^/]+)\/events$/

interface ParsedUrl {
  url: string
  rolloutId: string
  attemptId: string
  /** The decoded mode segment (proxy URL only). */
  mode: string | undefined
}

/**
 * Reads `AGL_OPENAI_BASE_URL`, `AGL_EVENT_URL` and `AGL_KEY` from `env` and checks them: both URLs must be
 * http(s) URLs of the shapes Agent Lightning's controller builds, naming the same rollout and attempt, and the
 * mode must be `train` or `val`. `AGL_KEY` must be set but may be empty (the controller sets it to `""` when
 * the gateway has no key).
 *
 * @throws AgentLightningEnvironmentError listing every missing, empty or malformed variable at once.
 */
export function readAgentLightningEnv(env: Record<string, string | undefined>): AgentLightningEnvironment {
  const problems: EnvironmentProblem[] = []
  const report = (variable: string) => (problem: string) => {
    problems.push({ variable, problem })
  }
  const proxy = readUrl(env, 'AGL_OPENAI_BASE_URL', PROXY_SHAPE, PROXY_PATH, report('AGL_OPENAI_BASE_URL'))
  const mode = proxy?.mode
  if (proxy !== undefined && mode !== 'train' && mode !== 'val') {
    problems.push({
      variable: 'AGL_OPENAI_BASE_URL',
      problem: `has mode ${JSON.stringify(mode)}; the gateway serves only train and val`,
    })
  }
  const events = readUrl(env, 'AGL_EVENT_URL', EVENT_SHAPE, EVENT_PATH, report('AGL_EVENT_URL'))
  const key = env.AGL_KEY
  if (key === undefined) {
    problems.push({
      variable: 'AGL_KEY',
      problem:
        'is not set (Agent Lightning sets it for every rollout, to an empty string when the gateway runs without a key)',
    })
  } else if (typeof key !== 'string') {
    problems.push({ variable: 'AGL_KEY', problem: `must be a string, got ${typeof key}` })
  }
  if (proxy !== undefined && events !== undefined) {
    for (const [label, fromProxy, fromEvents] of [
      ['rollout', proxy.rolloutId, events.rolloutId],
      ['attempt', proxy.attemptId, events.attemptId],
    ] as const) {
      if (fromProxy !== fromEvents) {
        problems.push({
          variable: 'AGL_EVENT_URL',
          problem: `names ${label} ${JSON.stringify(fromEvents)} but AGL_OPENAI_BASE_URL names ${label} ${JSON.stringify(fromProxy)}`,
        })
      }
    }
  }
  if (problems.length > 0) throw new AgentLightningEnvironmentError(problems)
  return {
    baseUrl: proxy!.url,
    eventUrl: events!.url,
    key: key as string,
    rolloutId: proxy!.rolloutId,
    attemptId: proxy!.attemptId,
    mode: mode as AgentLightningMode,
  }
}

/** Checks one URL variable; reports each problem and returns `undefined` when there is one. */
function readUrl(
  env: Record<string, string | undefined>,
  variable: string,
  shape: string,
  pathPattern: RegExp,
  report: (problem: string) => void,
): ParsedUrl | undefined {
  const raw: unknown = env[variable]
  if (raw === undefined) {
    report(`is not set (Agent Lightning's controller sets it to ${shape})`)
    return undefined
  }
  if (typeof raw !== 'string') {
    report(`must be a string, got ${describeValue(raw)}`)
    return undefined
  }
  if (raw.trim() === '') {
    report(`is empty (expected ${shape})`)
    return undefined
  }
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    report(`is not a URL: ${JSON.stringify(raw.length > 120 ? `${raw.slice(0, 120)}…` : raw)}`)
    return undefined
  }
  const shown = JSON.stringify(withoutCredentials(url))
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    report(`must be an http:// or https:// URL, got ${shown}`)
    return undefined
  }
  if (url.search !== '' || url.hash !== '') {
    report(`must have no query or fragment (paths are appended to it), got ${shown}`)
    return undefined
  }
  const pathname = url.pathname.endsWith('/') ? url.pathname.slice(0, -1) : url.pathname
  const match = pathPattern.exec(pathname)
  if (!match) {
    report(`must have the shape ${shape}, got ${shown}`)
    return undefined
  }
  const rolloutId = decodeSegment(match[1]!, 'rollout id', report)
  const attemptId = decodeSegment(match[2]!, 'attempt id', report)
  const mode = match[3] === undefined ? undefined : decodeSegment(match[3], 'mode', report)
  if (rolloutId === undefined || attemptId === undefined || (match[3] !== undefined && mode === undefined)) {
    return undefined
  }
  url.pathname = pathname
  return { url: url.href.endsWith('/') ? url.href.slice(0, -1) : url.href, rolloutId, attemptId, mode }
}

/** Percent-decodes one id segment as the gateway's server does before routing. */
function decodeSegment(
  segment: string,
  label: string,
  report: (problem: string) => void,
): string | undefined {
  let decoded: string
  try {
    decoded = decodeURIComponent(segment)
  } catch {
    report(`the ${label} segment ${JSON.stringify(segment)} is not valid percent-encoding`)
    return undefined
  }
  if (decoded.includes('/')) {
    report(
      `the ${label} ${JSON.stringify(decoded)} contains "/" once decoded; the gateway decodes the path before routing, so no request could reach it`,
    )
    return undefined
  }
  return decoded
}

/** The URL as text without a `user:password@` part, for error messages. */
function withoutCredentials(url: URL): string {
  if (url.username === '' && url.password === '') return url.href
  const copy = new URL(url.href)
  copy.username = ''
  copy.password = ''
  return copy.href
}
