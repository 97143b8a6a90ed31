import { TOKEN_RECORD_SCHEMA_VERSION, type TokenRecord } from './token-record'

/**
 * What a model provider (e.g. `VLLMModel`) attaches to each model call so that framework-side consumers
 * (the recorder's Strands plugin, trajectory builders reading `agent.messages`) can find the token record
 * without importing the provider. The provider puts it in the Strands message-stop event's
 * `additionalModelResponseFields` and in `message.metadata.custom.vllm`.
 */
export interface VLLMResponseFields {
  /** Prompt token ids, under the key `strands-vllm` uses. */
  prompt_token_ids: number[] | null
  /** Completion token ids, under the key `strands-vllm` uses. */
  token_ids: number[] | null
  /** The whole record of the call. */
  token_record: TokenRecord
}

/** The key under `message.metadata.custom` that holds {@link VLLMResponseFields}. */
export const MESSAGE_METADATA_KEY = 'vllm'

/** Builds the fields a provider attaches for one record. */
export function toResponseFields(record: TokenRecord): VLLMResponseFields {
  return { prompt_token_ids: record.promptTokenIds, token_ids: record.tokenIds, token_record: record }
}

/** `true` when `value` looks like a {@link TokenRecord} of the current schema version. */
export function isTokenRecord(value: unknown): value is TokenRecord {
  if (typeof value !== 'object' || value === null) return false
  const candidate = value as Partial<TokenRecord>
  return (
    candidate.schemaVersion === TOKEN_RECORD_SCHEMA_VERSION &&
    typeof candidate.verification === 'object' &&
    candidate.verification !== null &&
    (candidate.tokenIds === null || Array.isArray(candidate.tokenIds))
  )
}

/**
 * Finds the token record in `additionalModelResponseFields` or `message.metadata.custom.vllm` (either the
 * fields object itself or the record). Returns `undefined` when there is none.
 */
export function extractTokenRecord(fields: unknown): TokenRecord | undefined {
  if (isTokenRecord(fields)) return fields
  if (typeof fields !== 'object' || fields === null) return undefined
  const record = (fields as { token_record?: unknown }).token_record
  return isTokenRecord(record) ? record : undefined
}
