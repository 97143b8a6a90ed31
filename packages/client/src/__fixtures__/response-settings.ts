import type { ResponseSettings } from '../response-settings'

/** Timestamps for records built in unit tests. */
export const testTiming = { startedAt: 1, firstByteAt: 2, endedAt: 3 }

/** The settings of one streamed chat choice with nothing extra requested; `overrides` replace fields. */
export function chatSettings(overrides: Partial<ResponseSettings> = {}): ResponseSettings {
  return {
    kind: 'chat',
    streaming: true,
    requestedModel: 'm',
    logprobsRequested: false,
    topLogprobsRequested: false,
    tokensAsTokenIds: false,
    idsNotRequested: false,
    maxTokens: null,
    choicesPerPrompt: 1,
    choiceCount: 1,
    ...overrides,
  }
}
