import { VLLMClient } from '@vllm-tito/client'
import {
  loadQwen3Tokenizer,
  type MockVllmServer,
  type Qwen3Tokenizer,
  startMockVllm,
} from '@vllm-tito/mock-vllm'
import { APICallError, type ChatMessage, type TokenRecord } from '@vllm-tito/spec'
import { QWEN3_SPECIAL_TOKEN_IDS } from '../classify-prefix-break'
import type { Rollout } from '../rollout'
import { buildTrajectory } from '../trajectory-builder'
import { calculatorTools } from './calculator-tools'

/** The task every rollout answers: one GRPO group. */
export const TASK_ID = 7
export const QUESTION = 'What is 17 * 23? Use the calculator.'
const MODEL = 'Qwen/Qwen3-8B'
const TOOL_CALL = '<tool_call>\n{"name": "calculator", "arguments": {"expression": "17 * 23"}}\n</tool_call>'

/** The five kinds of rollout of the group. */
export type RolloutKind = 'exact' | 'split' | 'missingLogprobs' | 'failedMidway' | 'failedAtStart'

/** The rollouts of one group, each run over HTTP against mock-vllm with the real Qwen3 template. */
export interface MockRollouts {
  tokenizer: Qwen3Tokenizer
  /** Two calls merged into one exact sequence, logprobs on both. Reward 1. */
  exact: Rollout
  /** Served with non-canonical splits: the second prompt re-encodes the first reply, two sequences. Reward 1. */
  split: Rollout
  /** Logprobs on the first call only: the sequence's logprobs are incomplete. Reward 0. */
  missingLogprobs: Rollout
  /** The second call answers HTTP 500: the first call's tokens, failure `api`. Reward 0. */
  failedMidway: Rollout
  /** The first call answers HTTP 500: no record, the task's prompt ids from `/tokenize`. Reward 0. */
  failedAtStart: Rollout
  /** The records of each rollout, in call order. */
  records: Record<RolloutKind, TokenRecord[]>
  /** Stops the servers. */
  close(): Promise<void>
}

/**
 * The policy: a calculator call first, the answer once the tool result is back. Replies have no think block,
 * so with thinking on the history renders them exactly as sampled and an exact rollout stays one sequence.
 */
function reply({ body }: { body: unknown }): string {
  const messages = (body as { messages: ChatMessage[] }).messages
  return messages.at(-1)?.role === 'tool' ? 'The answer is 391.' : TOOL_CALL
}

/** Runs the five rollouts of the group; every field of every rollout comes from real HTTP calls. */
export async function runMockRollouts(): Promise<MockRollouts> {
  const tokenizer = await loadQwen3Tokenizer()
  const servers: MockVllmServer[] = []
  const start = async (options: Parameters<typeof startMockVllm>[0]) => {
    const server = await startMockVllm(options)
    servers.push(server)
    return new VLLMClient({ baseUrl: server.baseUrl, maxRetries: 0 })
  }
  try {
    const canonical = await start({ policy: { script: reply } })
    const nonCanonical = await start({ policy: { script: reply }, nonCanonicalRate: 1, seed: 7 })
    // chat requests 0 and 1 of this server: the second call of failedMidway, then failedAtStart's first
    const faulty = await start({
      policy: { script: reply },
      faults: [{ kind: 'http-status', status: 500, when: { requestIndex: [1, 2] } }],
    })
    const records = {} as Record<RolloutKind, TokenRecord[]>
    const rollout = async (
      kind: RolloutKind,
      client: VLLMClient,
      ids: { sampleIndex: number; rolloutId: number },
      logprobsPerCall: readonly boolean[],
      reward: number,
    ): Promise<Rollout> => {
      const run = await runToolLoop(client, logprobsPerCall)
      records[kind] = run.records
      return {
        taskId: TASK_ID,
        ...ids,
        trajectory: buildTrajectory(run.records, { tokenizer, specialTokenIds: QWEN3_SPECIAL_TOKEN_IDS }),
        reward,
        failure: run.failure,
        promptTokenIds: run.records.length === 0 ? await promptIds(client) : null,
      }
    }
    const exact = await rollout('exact', canonical, { sampleIndex: 0, rolloutId: 100 }, [true, true], 1)
    const split = await rollout('split', nonCanonical, { sampleIndex: 1, rolloutId: 101 }, [true, true], 1)
    const missingLogprobs = await rollout(
      'missingLogprobs',
      canonical,
      { sampleIndex: 2, rolloutId: 102 },
      [true, false],
      0,
    )
    const failedMidway = await rollout(
      'failedMidway',
      faulty,
      { sampleIndex: 3, rolloutId: 103 },
      [true, true],
      0,
    )
    const failedAtStart = await rollout(
      'failedAtStart',
      faulty,
      { sampleIndex: 4, rolloutId: 104 },
      [true, true],
      0,
    )
    return {
      tokenizer,
      exact,
      split,
      missingLogprobs,
      failedMidway,
      failedAtStart,
      records,
      close: async () => {
        await Promise.all(servers.map((server) => server.close()))
      },
    }
  } catch (error) {
    await Promise.all(servers.map((server) => server.close()))
    throw error
  }
}

/** The tool loop: call, run the calculator, call again. An API error ends the rollout as failed. */
async function runToolLoop(
  client: VLLMClient,
  logprobsPerCall: readonly boolean[],
): Promise<{ records: TokenRecord[]; failure: Rollout['failure'] }> {
  const messages: ChatMessage[] = [{ role: 'user', content: QUESTION }]
  const records: TokenRecord[] = []
  for (const logprobs of logprobsPerCall) {
    let record: TokenRecord
    try {
      ;[record] = (await client.chat.create({
        model: MODEL,
        messages,
        tools: calculatorTools,
        logprobs,
      })) as [TokenRecord]
    } catch (error) {
      if (!APICallError.isInstance(error)) throw error
      return { records, failure: { source: 'api', message: error.message } }
    }
    records.push(record)
    const toolCalls = record.toolCalls.map((call) => ({
      id: call.id ?? `call-${call.index}`,
      type: 'function' as const,
      function: { name: call.name, arguments: call.arguments },
    }))
    messages.push({
      role: 'assistant',
      content: record.text.trim(),
      ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
    })
    for (const call of toolCalls) messages.push({ role: 'tool', content: '391', tool_call_id: call.id })
  }
  return { records, failure: null }
}

/** The task's prompt ids as the server renders them for its first call. */
async function promptIds(client: VLLMClient): Promise<number[]> {
  const result = await client.tokenize({
    model: MODEL,
    messages: [{ role: 'user', content: QUESTION }],
    tools: calculatorTools,
  })
  return result.tokenIds
}

/** What the trainers' response part must be for a rollout of two calls merged into one exact sequence. */
export function mergedRow(first: TokenRecord, second: TokenRecord) {
  const firstPrompt = first.promptTokenIds!
  const added = second.promptTokenIds!.slice(firstPrompt.length + first.tokenIds!.length)
  const zeros = (count: number) => Array<number>(count).fill(0)
  return {
    prompt: firstPrompt,
    /** The tool result and the next generation prompt the second call's prompt added. */
    added,
    response: [...first.tokenIds!, ...added, ...second.tokenIds!],
    mask: [...first.tokenIds!.map(() => 1), ...zeros(added.length), ...second.tokenIds!.map(() => 1)],
    logprobs:
      first.logprobs && second.logprobs
        ? [...first.logprobs, ...zeros(added.length), ...second.logprobs]
        : null,
  }
}

/** Seconds inside the calls and between them, from the records' own timing. */
export function recordSeconds(records: readonly TokenRecord[]): { calls: number; between: number } {
  let calls = 0
  let between = 0
  records.forEach((record, index) => {
    calls += record.timing.endedAt - record.timing.startedAt
    if (index > 0) between += record.timing.startedAt - records[index - 1]!.timing.endedAt
  })
  return { calls: calls / 1000, between: between / 1000 }
}
