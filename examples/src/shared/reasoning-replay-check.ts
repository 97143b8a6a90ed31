import { Agent, ModelStreamUpdateEvent, NullConversationManager } from '@strands-agents/sdk'
import {
  extractTokenRecord,
  type TextTokenizer,
  type TokenRecord,
  type TokenStreamingClient,
} from '@vllm-tito/spec'
import { VLLMClient, VLLMModel } from '@vllm-tito/strands'
import { buildTrajectory } from '@vllm-tito/trajectory'
import { calculator } from './calculator-tool'
import { specialTokenIdsFor } from './special-token-ids'

/**
 * Wraps a client so that replayed reasoning goes out the way clients wrote it before vLLM renamed the field:
 * as `reasoning_content` only. vLLM between vllm-project/vllm#33402 and vllm-project/vllm#42664 ignores that
 * name, so a thinking model's earlier `<think>` blocks render empty.
 */
export function reasoningContentOnly(client: TokenStreamingClient): TokenStreamingClient {
  return {
    chat: {
      stream: (request, options) => {
        const messages = request.messages.map(({ reasoning: _dropped, ...message }) => message)
        return client.chat.stream({ ...request, messages }, options)
      },
    },
  }
}

/** Where to run the check and how to classify what it finds. */
export interface ReplayCheckTarget {
  /** Server root, without `/v1`. */
  baseUrl: string
  modelId: string
  /** Decoder for the break classes (the Qwen3 tokenizer for Qwen3 models). */
  tokenizer: TextTokenizer | undefined
}

/**
 * Runs `task` as a tool-using agent with VLLMModel (or, with `oldStyle`, a client that sends reasoning as
 * `reasoning_content` only) and says what the token records show: how many calls, how many verified against
 * `usage`, how many training sequences, and the first prefix break with its class.
 */
export async function describeReasoningReplay(
  target: ReplayCheckTarget,
  task: string,
  oldStyle: boolean,
): Promise<string> {
  const client = new VLLMClient({ baseUrl: target.baseUrl })
  const model = new VLLMModel({
    client: oldStyle ? reasoningContentOnly(client) : client,
    modelId: target.modelId,
    returnTokenIds: true,
  })
  const agent = new Agent({
    model,
    tools: [calculator],
    printer: false,
    conversationManager: new NullConversationManager(),
    retryStrategy: null,
  })
  const records: TokenRecord[] = []
  agent.addHook(ModelStreamUpdateEvent, (event) => {
    if (event.event.type !== 'modelMessageStopEvent') return
    const record = extractTokenRecord(event.event.additionalModelResponseFields)
    if (record !== undefined) records.push(record)
  })
  await agent.invoke(task)
  const trajectory = buildTrajectory(records, {
    ...specialTokenIdsFor(target.modelId),
    ...(target.tokenizer ? { tokenizer: target.tokenizer } : {}),
  })
  const verified = records.filter((record) => record.verification.verified).length
  const sequences = trajectory.sequences.length
  const summary = `${records.length} calls (${verified} verified against usage), ${sequences} sequence${sequences === 1 ? '' : 's'}`
  const [first] = trajectory.breaks
  if (first === undefined) return `${summary}, no prefix break`
  const found = `${summary}; call ${first.turnIndex} started a new sequence (${first.kind} break): ${first.detail}`
  return `${found}${driftTokens(records, first.turnIndex, first.driftIndex, target.tokenizer)}`
}

/** `` (sampled `<think>`, re-rendered `<tool_call>`) ``: the two tokens where the prompt left the context. */
function driftTokens(
  records: readonly TokenRecord[],
  turnIndex: number,
  driftIndex: number,
  tokenizer: TextTokenizer | undefined,
): string {
  const previous = records[turnIndex - 1]
  const prompt = records[turnIndex]?.promptTokenIds
  if (tokenizer === undefined || previous === undefined || !prompt) return ''
  const context = [...(previous.promptTokenIds ?? []), ...(previous.tokenIds ?? [])]
  const sampled = context[driftIndex]
  const rendered = prompt[driftIndex]
  if (sampled === undefined || rendered === undefined) return ''
  return ` (sampled ${tokenizer.decode([sampled])}, re-rendered ${tokenizer.decode([rendered])})`
}
