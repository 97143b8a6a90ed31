// The soak run itself (started by bench/soak.ts, which checks that this process exits by itself). Thousands of
// rollouts — plain client calls and Strands agents, mixed — against two in-process mock-vllm servers (`current`
// and `legacy-0.10`), each rollout with a seeded random fault. Every rollout must end with verified records
// whose ids are exactly right, a flagged record, or a typed error; anything else is counted as a failure. The
// last quarter of the time runs GRPO groups through the rollout runner under the same faults (bench/soak-runner.ts):
// no rollout lost or duplicated, no wrong row marked exact.
import { Agent, NullConversationManager } from '@strands-agents/sdk'
import { VLLMClient } from '@vllm-tito/client'
import { type MockFault, type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import {
  type ChatMessage,
  StreamInterruptedError,
  sameIds,
  type TokenRecord,
  VLLMTitoError,
} from '@vllm-tito/spec'
import { VLLMModel, VLLMTokenRecorder } from '@vllm-tito/strands'
import { expectedCompletionIds, MODEL, pickFault, seededRandom, soakPolicy, tokenizer } from './soak-plan'
import { soakRunner } from './soak-runner'

interface SoakSettings {
  rollouts: number
  durationMs: number
  concurrency: number
  seed: number
}

function readSettings(argv: string[]): SoakSettings {
  const value = (flag: string, fallback: number) => {
    const index = argv.indexOf(flag)
    if (index === -1) return fallback
    const parsed = Number(argv[index + 1])
    if (!Number.isFinite(parsed) || parsed <= 0) throw new TypeError(`${flag} must be a positive number`)
    return parsed
  }
  return {
    rollouts: value('--rollouts', 5_000),
    durationMs: value('--duration', 300) * 1000,
    concurrency: value('--concurrency', 48),
    seed: value('--seed', 1),
  }
}

type Outcome = 'verified' | 'flagged' | 'typed error' | 'untyped error' | 'wrong but verified'

/** classifies the records a rollout ended with; a verified record must carry exactly the ids the server sampled */
function classifyRecords(records: TokenRecord[], userText: string, messages?: ChatMessage[]): Outcome {
  if (records.length === 0) return 'untyped error'
  for (const record of records) {
    if (!record.verification.verified) continue
    const promptOk =
      messages === undefined ||
      (record.promptTokenIds !== null &&
        sameIds(record.promptTokenIds, tokenizer.encodeChat(messages, { addGenerationPrompt: true })))
    const completionOk = record.tokenIds !== null && sameIds(record.tokenIds, expectedCompletionIds(userText))
    if (!promptOk || !completionOk) return 'wrong but verified'
  }
  return records.every((record) => record.verification.verified) ? 'verified' : 'flagged'
}

function isTypedError(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current !== undefined && depth < 5; depth += 1) {
    if (VLLMTitoError.isInstance(current)) return true
    current = (current as { cause?: unknown } | null)?.cause
  }
  return false
}

/** partial records attached to an interrupted stream must never claim to be verified */
function partialRecordsAreHonest(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current !== undefined && depth < 5; depth += 1) {
    if (StreamInterruptedError.isInstance(current)) {
      return current.partialRecords.every((record) => !record.verification.verified && !record.complete)
    }
    current = (current as { cause?: unknown } | null)?.cause
  }
  return true
}

async function clientRollout(
  server: MockVllmServer,
  index: number,
  fault: MockFault | undefined,
): Promise<Outcome> {
  const userText = `rollout ${index}`
  const messages: ChatMessage[] = [{ role: 'user', content: userText }]
  const client = new VLLMClient({
    baseUrl: server.baseUrl,
    timeoutMs: 1_000,
    maxRetries: 1,
    ...(fault && { defaultHeaders: { 'x-mock-fault': JSON.stringify(fault) } }),
  })
  try {
    const records = await client.chat.stream({ model: MODEL, messages }).final()
    return classifyRecords(records, userText, messages)
  } catch (error) {
    if (!partialRecordsAreHonest(error)) return 'wrong but verified'
    return isTypedError(error) ? 'typed error' : 'untyped error'
  }
}

async function agentRollout(
  server: MockVllmServer,
  index: number,
  fault: MockFault | undefined,
): Promise<Outcome> {
  const userText = `rollout ${index}`
  const client = new VLLMClient({
    baseUrl: server.baseUrl,
    timeoutMs: 1_000,
    maxRetries: 1,
    ...(fault && { defaultHeaders: { 'x-mock-fault': JSON.stringify(fault) } }),
  })
  const recorder = new VLLMTokenRecorder({ addToSpan: false })
  const agent = new Agent({
    model: new VLLMModel({ modelId: MODEL, client, returnTokenIds: true }),
    plugins: [recorder],
    printer: false,
    conversationManager: new NullConversationManager(),
    retryStrategy: null,
  })
  try {
    await agent.invoke(userText)
    return classifyRecords([...recorder.history], userText, [{ role: 'user', content: userText }])
  } catch (error) {
    if (!partialRecordsAreHonest(error)) return 'wrong but verified'
    if (recorder.history.some((record) => record.verification.verified)) return 'wrong but verified'
    return isTypedError(error) ? 'typed error' : 'untyped error'
  }
}

const settings = readSettings(process.argv.slice(2))
let unhandledRejections = 0
process.on('unhandledRejection', () => {
  unhandledRejections += 1
})

const random = seededRandom(settings.seed)
const policy = soakPolicy
const currentServer = await startMockVllm({ model: MODEL, mode: 'current', policy, seed: settings.seed })
const legacyServer = await startMockVllm({ model: MODEL, mode: 'legacy-0.10', policy, seed: settings.seed })

const counts = new Map<string, Map<Outcome, number>>()
const count = (row: string, outcome: Outcome) => {
  const outcomes = counts.get(row) ?? new Map<Outcome, number>()
  outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1)
  counts.set(row, outcomes)
}

const started = Date.now()
let next = 0
let launched = 0
// the lanes get three quarters of the time, the runner section (bench/soak-runner.ts) the rest
const lanesMs = settings.durationMs * 0.75
async function lane(): Promise<void> {
  while (next < settings.rollouts && Date.now() - started < lanesMs) {
    const index = next
    next += 1
    launched += 1
    const { name, fault } = pickFault(random)
    const useAgent = random() < 0.35
    const server = name === 'legacy-0.10' ? legacyServer : currentServer
    const outcome = useAgent
      ? await agentRollout(server, index, fault)
      : await clientRollout(server, index, fault)
    count(`${useAgent ? 'agent' : 'client'} / ${name}`, outcome)
  }
}
await Promise.all(Array.from({ length: settings.concurrency }, lane))
const runnerSection = await soakRunner({
  servers: { current: currentServer, 'legacy-0.10': legacyServer },
  tasks: Math.min(1_000, Math.max(100, Math.floor(settings.rollouts / 5))),
  concurrency: settings.concurrency,
  deadline: started + settings.durationMs,
  random,
})
await Promise.all([currentServer.close(), legacyServer.close()])

const outcomes: Outcome[] = ['verified', 'flagged', 'typed error', 'untyped error', 'wrong but verified']
const header = ['rollouts by kind / fault', ...outcomes]
const rows = [...counts.entries()].sort(([left], [right]) => left.localeCompare(right))
const totals = outcomes.map((outcome) => rows.reduce((sum, [, row]) => sum + (row.get(outcome) ?? 0), 0))
const table = [
  header,
  ...rows.map(([name, row]) => [name, ...outcomes.map((outcome) => String(row.get(outcome) ?? 0))]),
  ['total', ...totals.map(String)],
]
const widths = header.map((_, column) => Math.max(...table.map((row) => row[column]!.length)))
console.log(table.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ')).join('\n'))
const seconds = ((Date.now() - started) / 1000).toFixed(1)
const failures = totals[3]! + totals[4]!
console.log(
  `\n${launched} rollouts in ${seconds} s; untyped errors: ${totals[3]}; wrong but verified: ${totals[4]}; unhandled rejections: ${unhandledRejections}`,
)
console.log(`\n${runnerSection.report}`)
process.exitCode = failures > 0 || runnerSection.failures > 0 || unhandledRejections > 0 ? 1 : 0
console.log('soak worker finished; waiting for the event loop to drain')
