import type { MockVllmMode } from './mock-vllm-options'

/** The wire details that differ between the imitated vLLM generations. */
export interface VersionProfile {
  /** What `GET /version` reports. */
  version: string
  /** Hex digits of response and tool-call ids (32 in v0.10/0.11, 16 in ≈v0.2x). */
  idHexLength: number
  /** Whether `return_token_ids` exists (≥ v0.10.2). */
  supportsTokenIds: boolean
  /** Whether parser-swallowed steps are still sent as `delta: {}` frames (≥ vllm-project/vllm#29074). */
  sendsSwallowedSteps: boolean
  /** The reasoning key of messages and deltas. */
  reasoningKey: 'reasoning' | 'reasoning_content'
  /** `system_fingerprint` on the finish chunk (include_usage off) and the usage chunk (≈v0.2x). */
  streamSystemFingerprint: string | null
  /** `prompt_text: null` on the role chunk and non-streaming responses (≈v0.2x). */
  hasPromptText: boolean
  /** Empty `tool_calls: []` kept in non-streaming messages (dropped by newer versions). */
  keepsEmptyToolCalls: boolean
  /** Completions streams dump every key (`exclude_unset=False`, v0.10.2–v0.11). */
  completionsStreamAllKeys: boolean
  /** v0.10.2 reports `tool_calls` even when the engine stopped on `length`. */
  toolCallsFinishOnLength: boolean
}

const profiles: Record<MockVllmMode, VersionProfile> = {
  current: {
    version: '0.28.0',
    idHexLength: 16,
    supportsTokenIds: true,
    sendsSwallowedSteps: true,
    reasoningKey: 'reasoning',
    streamSystemFingerprint: 'vllm-0.28.0-54757788',
    hasPromptText: true,
    keepsEmptyToolCalls: false,
    completionsStreamAllKeys: false,
    toolCallsFinishOnLength: false,
  },
  'legacy-0.10': {
    version: '0.11.0',
    idHexLength: 32,
    supportsTokenIds: true,
    sendsSwallowedSteps: false,
    reasoningKey: 'reasoning_content',
    streamSystemFingerprint: null,
    hasPromptText: false,
    keepsEmptyToolCalls: true,
    completionsStreamAllKeys: true,
    toolCallsFinishOnLength: true,
  },
  'pre-0.10.2': {
    version: '0.10.1',
    idHexLength: 32,
    supportsTokenIds: false,
    sendsSwallowedSteps: false,
    reasoningKey: 'reasoning_content',
    streamSystemFingerprint: null,
    hasPromptText: false,
    keepsEmptyToolCalls: true,
    completionsStreamAllKeys: true,
    toolCallsFinishOnLength: true,
  },
}

/** The profile of a mode. */
export function versionProfile(mode: MockVllmMode): VersionProfile {
  return profiles[mode]
}
