import type { MockVllmMode } from './mock-vllm-options'

/**
 * What one vLLM generation does to the chat messages it receives before the chat template runs
 * (`parse_chat_messages` and `_postprocess_messages` in `vllm/entrypoints/chat_utils.py`, plus the request
 * validators of `ChatCompletionRequest`). `docs/vllm-input-side.md` has the facts by version with links.
 */
export interface ChatInputRules {
  /**
   * The field of an incoming assistant message that is read as its reasoning. `none`: neither `reasoning` nor
   * `reasoning_content` reaches the template (before vllm-project/vllm#28531, Nov 2025); `reasoning`: only
   * that name is read (the `reasoning_content` fallback was removed by vllm-project/vllm#33402, Jan 2026).
   */
  reasoningField: 'none' | 'reasoning'
  /**
   * Whether `POST /v1/chat/completions` first renames `reasoning_content` to `reasoning` when `reasoning` is
   * absent or null (vllm-project/vllm#42664, merged 2026-05-21). `/tokenize` never does
   * (vllm-project/vllm#52513 is still open), so the mock removes `reasoning_content` there before rendering.
   */
  renamesReasoningContent: boolean
  /**
   * The keys the reasoning is handed to the template under. Both names since vllm-project/vllm#33635 (Feb
   * 2026), so templates that read `reasoning_content` (Qwen3's) keep working.
   */
  reasoningTemplateKeys: readonly ('reasoning' | 'reasoning_content')[]
  /**
   * How a replayed tool call's `arguments` string is turned into the object the template serialises:
   * - `parse-all` (≤ v0.10.2): every string goes through `json.loads`; `''` is a 400;
   * - `empty-is-object` (vllm-project/vllm#25223, v0.11.0): `''` or no arguments become `{}`, any other
   *   string that is not JSON is a 400 carrying Python's `JSONDecodeError` text;
   * - `invalid-is-object` (vllm-project/vllm#48922, merged 2026-07-17): a string that is not JSON becomes `{}`.
   */
  argumentsParsing: 'parse-all' | 'empty-is-object' | 'invalid-is-object'
  /**
   * Whether `tools: []` is a 400 (vllm-project/vllm#39780, merged 2026-04-14) instead of being rendered as
   * no tools.
   */
  rejectsEmptyTools: boolean
  /**
   * Whether a preprocessing error message ends with `" None"`: v0.10–v0.11 answered with
   * `f"{error} {error.__cause__}"`.
   */
  appendsErrorCause: boolean
}

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
  /** The reasoning key of outgoing messages and deltas. */
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
  /** What the server does to incoming chat messages before the template runs. */
  chatInput: ChatInputRules
}

/** The input side of v0.10–v0.11: no reasoning read, invalid arguments a 400 ending in `" None"`. */
const oldChatInput: ChatInputRules = {
  reasoningField: 'none',
  renamesReasoningContent: false,
  reasoningTemplateKeys: [],
  argumentsParsing: 'empty-is-object',
  rejectsEmptyTools: false,
  appendsErrorCause: true,
}

const current: VersionProfile = {
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
  chatInput: {
    reasoningField: 'reasoning',
    renamesReasoningContent: true,
    reasoningTemplateKeys: ['reasoning', 'reasoning_content'],
    argumentsParsing: 'invalid-is-object',
    rejectsEmptyTools: true,
    appendsErrorCause: false,
  },
}

const profiles: Record<MockVllmMode, VersionProfile> = {
  current,
  'strict-0.20': {
    ...current,
    version: '0.20.2',
    // the wire shape of the 0.2x line; the hash part is a placeholder (no 0.20.2 capture was at hand)
    streamSystemFingerprint: 'vllm-0.20.2-00000000',
    chatInput: {
      reasoningField: 'reasoning',
      renamesReasoningContent: false,
      reasoningTemplateKeys: ['reasoning', 'reasoning_content'],
      argumentsParsing: 'empty-is-object',
      rejectsEmptyTools: true,
      appendsErrorCause: false,
    },
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
    chatInput: oldChatInput,
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
    chatInput: { ...oldChatInput, argumentsParsing: 'parse-all' },
  },
}

/** Every mode, in the order the docs list them (newest first). */
export const mockVllmModes: readonly MockVllmMode[] = ['current', 'strict-0.20', 'legacy-0.10', 'pre-0.10.2']

/** The profile of a mode. */
export function versionProfile(mode: MockVllmMode): VersionProfile {
  return profiles[mode]
}
