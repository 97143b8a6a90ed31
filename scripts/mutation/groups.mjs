// The core logic under mutation testing, one group per run (`pnpm test:mutation <group>`), so a run is bounded.
// `mutate` takes Stryker's globs and `file:fromLine-toLine` ranges; `testPackages` are the vitest projects (folders
// under packages/) whose tests run against the mutants.
//
// A line range goes stale when its file is edited above it, and Stryker would then mutate the wrong lines without a
// word. So every range is listed in `RANGE_ANCHORS` with a text its first line and its last line must hold, and
// scripts/mutation.test.ts fails (in `pnpm test`) when a range no longer starts and ends where it should.

/** Per `file:from-to` range of a group's `mutate`: [text on line `from`, text on line `to`]. */
export const RANGE_ANCHORS = {
  'packages/spec/src/checks.ts:43-70': ['export function startsWithIds(', '}'],
  'packages/mock-vllm/src/chat-completions.ts:206-206': [
    'result.token_ids = chat.returnTokenIds',
    'result.token_ids',
  ],
  'packages/mock-vllm/src/chat-completions.ts:228-228': [
    'body.prompt_token_ids = chat.returnTokenIds',
    'body.prompt_token_ids',
  ],
  'packages/mock-vllm/src/chat-completions.ts:260-329': ['function* chatStreamPayloads(', '}'],
  'packages/mock-vllm/src/completions.ts:169-169': [
    'result.token_ids = completion.returnTokenIds',
    'result.token_ids',
  ],
  'packages/mock-vllm/src/completions.ts:179-181': ['if (profile.supportsTokenIds) {', '}'],
  'packages/mock-vllm/src/completions.ts:198-244': ['function* completionStreamPayloads(', '}'],
}

/** @type {Record<string, { summary: string, mutate: string[], testPackages: string[] }>} */
export const MUTATION_GROUPS = {
  client: {
    summary:
      'id verification and token accumulation: verify-token-ids, build-records, choice/response state, logprob entries, finish reason, chunk readers',
    mutate: [
      'packages/client/src/verify-token-ids.ts',
      'packages/client/src/build-records.ts',
      'packages/client/src/choice-state.ts',
      'packages/client/src/response-state.ts',
      'packages/client/src/logprob-entries.ts',
      'packages/client/src/finish-reason.ts',
      'packages/client/src/choice-readers.ts',
      'packages/client/src/wire-values.ts',
    ],
    testPackages: ['client'],
  },
  trajectory: {
    summary: "the trajectory builder's prefix and break logic, and the shared id-prefix checks it uses",
    mutate: [
      'packages/trajectory/src/trajectory-builder.ts',
      'packages/trajectory/src/classify-prefix-break.ts',
      'packages/trajectory/src/find-drift-index.ts',
      'packages/trajectory/src/open-sequence.ts',
      'packages/trajectory/src/closing-token-alignment.ts',
      // startsWithIds, startsWithConcatenation and sameIds: the prefix check itself
      'packages/spec/src/checks.ts:43-70',
    ],
    testPackages: ['trajectory', 'spec'],
  },
  validation: {
    summary: 'the validation error texts the model reads back',
    mutate: [
      'packages/validation/src/format-allowed-tools.ts',
      'packages/validation/src/format-schema-violations.ts',
    ],
    testPackages: ['validation'],
  },
  mock: {
    summary: "the mock's id emission: the engine, logprobs, and the ids of bodies and SSE chunks",
    mutate: [
      'packages/mock-vllm/src/generation.ts',
      'packages/mock-vllm/src/logprobs.ts',
      // the id fields of the non-streaming bodies, and the stream payload generators
      'packages/mock-vllm/src/chat-completions.ts:206-206',
      'packages/mock-vllm/src/chat-completions.ts:228-228',
      'packages/mock-vllm/src/chat-completions.ts:260-329',
      'packages/mock-vllm/src/completions.ts:169-169',
      'packages/mock-vllm/src/completions.ts:179-181',
      'packages/mock-vllm/src/completions.ts:198-244',
    ],
    testPackages: ['mock-vllm'],
  },
}
