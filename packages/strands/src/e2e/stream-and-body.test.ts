// One table of reply shapes, each run through a Strands Agent with VLLMModel twice, over real HTTP against
// mock-vllm: streaming (the default) and with `stream: false`. Both must give the same Strands events (once
// consecutive text deltas are joined: a body has one delta per block), the same records (timing aside), the
// same requests and the same outcome. Each case gets two fresh servers: mock-vllm seeds ids and logprobs by
// request index, so both servers answer the two forms of one request with the same reply.
import {
  Agent,
  BeforeModelCallEvent,
  ModelStreamUpdateEvent,
  NullConversationManager,
} from '@strands-agents/sdk'
import { VLLMClient } from '@vllm-tito/client'
import { type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import { extractTokenRecord, type TokenRecord } from '@vllm-tito/spec'
import { VLLMToolValidationHooks } from '@vllm-tito/validation/strands'
import { afterEach, describe, expect, it } from 'vitest'
import { type CaseRun, calculator, clock, type ReplyCase, replyCases } from '../__fixtures__/reply-cases'
import { rewritingFetch } from '../__fixtures__/rewriting-fetch'
import { VLLMModel } from '../vllm-model'

const MODEL_ID = 'Qwen/Qwen3-8B'

const servers: MockVllmServer[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close()
})

/** Plain JSON of a value (SDK event and block classes included). */
function plain(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value))
}

/** Keys two runs of the same reply differ in by design: latencies, timestamps, the SDK's random ids. */
const VOLATILE_KEYS = new Set(['timing', 'metrics', 'trackingId'])

/** The messages of a run as plain data, without {@link VOLATILE_KEYS}. */
function stableMessages(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value), (key, field: unknown) =>
    VOLATILE_KEYS.has(key) ? undefined : field,
  )
}

/** A record without its timing, the only field two runs of the same reply must differ in. */
function untimed(record: TokenRecord): Omit<TokenRecord, 'timing'> {
  const { timing: _timing, ...rest } = record
  return rest
}

/** The fields of a model event {@link normalizeEvents} reads or removes. */
interface PlainEvent {
  type: string
  metrics?: unknown
  delta?: { type: string; text?: string }
  additionalModelResponseFields?: { token_record?: { timing?: unknown } }
}

/**
 * The model events of one call as plain data: consecutive text or reasoning deltas joined into one (a body
 * has one per block), the metadata event's metrics (latencies) and the record's timing left out.
 */
function normalizeEvents(events: unknown[]): unknown[] {
  const normalized: PlainEvent[] = []
  for (const event of events.map(plain) as PlainEvent[]) {
    if (event.type === 'modelMetadataEvent') delete event.metrics
    delete event.additionalModelResponseFields?.token_record?.timing
    const previous = normalized.at(-1)
    const text = event.delta?.text
    if (
      event.type === 'modelContentBlockDeltaEvent' &&
      previous?.type === 'modelContentBlockDeltaEvent' &&
      previous.delta?.type === event.delta?.type &&
      previous.delta?.text !== undefined &&
      text !== undefined
    ) {
      previous.delta.text += text
    } else {
      normalized.push(event)
    }
  }
  return normalized
}

async function runCase(replyCase: ReplyCase, stream: boolean): Promise<CaseRun> {
  const mock = await startMockVllm({
    model: MODEL_ID,
    policy: { script: replyCase.replies },
    ...replyCase.mock,
  })
  servers.push(mock)
  const connection =
    replyCase.rewrite === undefined
      ? { baseUrl: `${mock.baseUrl}/v1` }
      : { client: new VLLMClient({ baseUrl: mock.baseUrl, fetch: rewritingFetch(replyCase.rewrite) }) }
  const model = new VLLMModel({
    modelId: MODEL_ID,
    returnTokenIds: true,
    ...replyCase.config,
    ...connection,
    stream,
  })
  const agent = new Agent({
    model,
    tools: [calculator, clock],
    plugins: [new VLLMToolValidationHooks()],
    printer: false,
    conversationManager: new NullConversationManager(),
    retryStrategy: null,
  })
  const calls: unknown[][] = []
  const records: TokenRecord[] = []
  agent.addHook(BeforeModelCallEvent, () => {
    calls.push([])
  })
  agent.addHook(ModelStreamUpdateEvent, (update) => {
    calls.at(-1)?.push(update.event)
    if (update.event.type !== 'modelMessageStopEvent') return
    const record = extractTokenRecord(update.event.additionalModelResponseFields)
    if (record !== undefined) records.push(record)
  })
  const outcome = await agent.invoke(replyCase.prompt ?? 'What is 2+2?').then(
    (result) => ({ stopReason: result.stopReason, messages: stableMessages(agent.messages) }),
    (error: Error) => ({
      error: error.constructor.name,
      message: error.message,
      cause: (error.cause as Error | undefined)?.name,
      messages: stableMessages(agent.messages),
    }),
  )
  const requests = mock.requests
    .filter((request) => request.path === '/v1/chat/completions')
    .map((request) => {
      const { stream: _stream, stream_options: _options, ...body } = request.body as Record<string, unknown>
      return body
    })
  const events = calls.map(normalizeEvents)
  const stopReasons = events.flatMap((call) =>
    (call as Array<{ type: string; stopReason?: string }>)
      .filter((event) => event.type === 'modelMessageStopEvent')
      .map((event) => event.stopReason),
  )
  const sentStream = mock.requests.map((request) => (request.body as { stream?: unknown }).stream)
  const lastMessages = (requests.at(-1)?.messages ?? []) as Array<{ role: string; content: unknown }>
  const toolResults = lastMessages
    .filter((message) => message.role === 'tool')
    .map((message) => message.content)
  return { events, records: records.map(untimed), outcome, requests, stopReasons, sentStream, toolResults }
}

describe('stream: false gives what streaming gives', () => {
  it.each(replyCases)('$name', async (replyCase) => {
    const streamed = await runCase(replyCase, true)
    const fromBody = await runCase(replyCase, false)

    expect(streamed.sentStream.every((value) => value === true)).toBe(true)
    expect(fromBody.sentStream.every((value) => value === false)).toBe(true)
    expect(streamed.stopReasons).toEqual(replyCase.stopReasons)
    const outcome = fromBody.outcome
    expect('error' in outcome ? outcome.error : outcome.stopReason).toBe(replyCase.outcome)
    expect(fromBody.records).toHaveLength(replyCase.stopReasons.length)
    replyCase.check(fromBody)

    expect(fromBody.events).toEqual(streamed.events)
    expect(fromBody.records).toEqual(streamed.records)
    expect(fromBody.outcome).toEqual(streamed.outcome)
    expect(fromBody.requests).toEqual(streamed.requests)
  })
})
