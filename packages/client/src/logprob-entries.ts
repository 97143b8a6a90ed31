import { isPlainObject, type TopLogprob } from '@vllm-tito/spec'
import { MalformedResponseError } from './wire-errors'

/** One position's logprob data, normalised from the chat or the completions shape. */
export interface LogprobEntry {
  /** The sampled token as vLLM printed it (`token` / `tokens[i]`), or `null`. */
  token: string | null
  /** The sampled token's logprob, or `null` when the server sent none for this position. */
  logprob: number | null
  /** Alternatives at this position (empty when none were sent). */
  top: TopLogprob[]
}

const TOKEN_ID_PATTERN = /^token_id:(\d+)$/

/** The id in a `token_id:<id>` string (vLLM's `return_tokens_as_token_ids`), or `null`. */
export function parseTokenIdString(token: string | null): number | null {
  if (token === null) return null
  const match = TOKEN_ID_PATTERN.exec(token)
  return match ? Number(match[1]) : null
}

function readLogprob(value: unknown, field: string): number | null {
  if (value === null || value === undefined) return null
  if (typeof value !== 'number') throw new MalformedResponseError(`${field} is not a number`)
  return value
}

/**
 * Chat logprobs (`logprobs.content[]`: `{token, logprob, bytes, top_logprobs[]}`), or `null` when the chunk
 * carries none (`logprobs: null`, absent, or an empty `content`).
 */
export function readChatLogprobs(
  logprobs: unknown,
  tokensAsTokenIds: boolean,
  field: string,
): LogprobEntry[] | null {
  if (!isPlainObject(logprobs)) return null
  const content = logprobs.content
  if (!Array.isArray(content) || content.length === 0) return null
  const entries: LogprobEntry[] = []
  for (let position = 0; position < content.length; position += 1) {
    const item: unknown = content[position]
    if (!isPlainObject(item))
      throw new MalformedResponseError(`${field}.content[${position}] is not an object`)
    const top: TopLogprob[] = []
    if (Array.isArray(item.top_logprobs)) {
      for (const alternative of item.top_logprobs) {
        // an alternative without a token or a logprob says nothing; it is skipped, never filled in
        if (!isPlainObject(alternative) || typeof alternative.token !== 'string') continue
        const logprob = readLogprob(
          alternative.logprob,
          `${field}.content[${position}].top_logprobs[].logprob`,
        )
        if (logprob === null) continue
        top.push({
          token: alternative.token,
          logprob,
          tokenId: tokensAsTokenIds ? parseTokenIdString(alternative.token) : null,
        })
      }
    }
    entries.push({
      token: typeof item.token === 'string' ? item.token : null,
      logprob: readLogprob(item.logprob, `${field}.content[${position}].logprob`),
      top,
    })
  }
  return entries
}

/**
 * Completions logprobs (`{tokens[], token_logprobs[], top_logprobs[{token: logprob}]}`), or `null` when the
 * chunk carries none.
 */
export function readCompletionLogprobs(
  logprobs: unknown,
  tokensAsTokenIds: boolean,
  field: string,
): LogprobEntry[] | null {
  if (!isPlainObject(logprobs)) return null
  const values = logprobs.token_logprobs
  if (!Array.isArray(values) || values.length === 0) return null
  const tokens = Array.isArray(logprobs.tokens) ? logprobs.tokens : []
  // Stryker disable next-line ArrayDeclaration: any non-object entry means no alternatives, so a filled fallback reads the same
  const tops = Array.isArray(logprobs.top_logprobs) ? logprobs.top_logprobs : []
  const entries: LogprobEntry[] = []
  for (let position = 0; position < values.length; position += 1) {
    const token: unknown = tokens[position]
    const alternatives: unknown = tops[position]
    const top: TopLogprob[] = []
    if (isPlainObject(alternatives)) {
      for (const [alternativeToken, value] of Object.entries(alternatives)) {
        const logprob = readLogprob(value, `${field}.top_logprobs[${position}]`)
        if (logprob === null) continue
        top.push({
          token: alternativeToken,
          logprob,
          tokenId: tokensAsTokenIds ? parseTokenIdString(alternativeToken) : null,
        })
      }
    }
    entries.push({
      token: typeof token === 'string' ? token : null,
      logprob: readLogprob(values[position], `${field}.token_logprobs[${position}]`),
      top,
    })
  }
  return entries
}
