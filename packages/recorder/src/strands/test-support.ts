import {
  Agent,
  type BaseModelConfig,
  FunctionTool,
  type JSONValue,
  type Message,
  Model,
  type ModelStreamEvent,
  NullConversationManager,
  type Plugin,
  type StopReason,
} from '@strands-agents/sdk'
import { type TokenRecord, toResponseFields } from '@vllm-tito/spec'
import { makeRecord } from '@vllm-tito/spec/testing'

/** One scripted model call. */
export interface ScriptedTurn {
  /** The record put into the message-stop event with `toResponseFields` (omit for a non-vLLM-like call). */
  record?: TokenRecord
  /** `additionalModelResponseFields` to send instead of `toResponseFields(record)`. */
  fields?: JSONValue
  /** Assistant text. */
  text?: string
  /** A tool call to make. */
  toolUse?: { name: string; input: JSONValue }
  /** Default: `toolUse` when there is a tool call, else `endTurn`. */
  stopReason?: StopReason
  /** Milliseconds to wait before the message stop, so concurrent agents interleave. */
  delayMs?: number
  /** Thrown after the message-stop event (a provider failing late). */
  errorAfterStop?: Error
}

/**
 * A Strands `Model` that replays scripted turns: the boundary these tests are not about (the real provider,
 * `VLLMModel`, is tested end to end in `@vllm-tito/strands`).
 */
export class ScriptedModel extends Model<BaseModelConfig> {
  readonly #turns: ScriptedTurn[]
  #config: BaseModelConfig = { modelId: 'scripted' }
  #next = 0

  constructor(turns: ScriptedTurn[]) {
    super()
    this.#turns = turns
  }

  updateConfig(modelConfig: BaseModelConfig): void {
    this.#config = { ...this.#config, ...modelConfig }
  }

  getConfig(): BaseModelConfig {
    return this.#config
  }

  async *stream(_messages: Message[]): AsyncGenerator<ModelStreamEvent> {
    const turn = this.#turns[this.#next]
    this.#next += 1
    if (turn === undefined) throw new Error(`ScriptedModel: no turn ${this.#next - 1} scripted`)
    yield { type: 'modelMessageStartEvent', role: 'assistant' }
    if (turn.text !== undefined) {
      yield { type: 'modelContentBlockStartEvent' }
      yield { type: 'modelContentBlockDeltaEvent', delta: { type: 'textDelta', text: turn.text } }
      yield { type: 'modelContentBlockStopEvent' }
    }
    if (turn.toolUse !== undefined) {
      yield {
        type: 'modelContentBlockStartEvent',
        start: { type: 'toolUseStart', name: turn.toolUse.name, toolUseId: `call-${this.#next}` },
      }
      yield {
        type: 'modelContentBlockDeltaEvent',
        delta: { type: 'toolUseInputDelta', input: JSON.stringify(turn.toolUse.input) },
      }
      yield { type: 'modelContentBlockStopEvent' }
    }
    if (turn.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, turn.delayMs))
    const fields =
      turn.fields ??
      (turn.record === undefined ? undefined : (toResponseFields(turn.record) as unknown as JSONValue))
    yield {
      type: 'modelMessageStopEvent',
      stopReason: turn.stopReason ?? (turn.toolUse === undefined ? 'endTurn' : 'toolUse'),
      ...(fields === undefined ? {} : { additionalModelResponseFields: fields }),
    }
    yield { type: 'modelMetadataEvent', usage: { inputTokens: 3, outputTokens: 2, totalTokens: 5 } }
    if (turn.errorAfterStop !== undefined) throw turn.errorAfterStop
  }
}

/** A tool the scripted turns call: adds two numbers. */
export const addTool = new FunctionTool({
  name: 'add',
  description: 'Adds two numbers.',
  inputSchema: {
    type: 'object',
    properties: { a: { type: 'number' }, b: { type: 'number' } },
    required: ['a', 'b'],
  },
  callback: (input) => {
    const { a, b } = input as { a: number; b: number }
    return a + b
  },
})

/**
 * A real Strands `Agent` with RL rollout settings: no printer, a `NullConversationManager` (the history is
 * never trimmed), no retry strategy (a retried call would be a second sample of the same turn).
 */
export function makeAgent(model: Model<BaseModelConfig>, plugins: Plugin[] = [], id?: string): Agent {
  return new Agent({
    model,
    tools: [addTool],
    plugins,
    printer: false,
    conversationManager: new NullConversationManager(),
    retryStrategy: null,
    ...(id === undefined ? {} : { id }),
  })
}

/** A record for call `turn` of rollout `rollout`, with ids and response id unique to both. */
export function rolloutRecord(rollout: number, turn: number, startedAt = Date.now()): TokenRecord {
  const promptTokenIds = [151644, 1000 + rollout, 2000 + turn]
  const tokenIds = [3000 + rollout * 10 + turn, 151645]
  return makeRecord({
    responseId: `chatcmpl-r${rollout}-t${turn}`,
    promptTokenIds,
    tokenIds,
    timing: { startedAt, firstByteAt: startedAt + 5, endedAt: startedAt + 20 },
  })
}

/** Two turns: a tool call then a final answer, each with its own record. */
export function twoTurnScript(rollout: number, delayMs?: number): ScriptedTurn[] {
  const delay = delayMs === undefined ? {} : { delayMs }
  return [
    { record: rolloutRecord(rollout, 0), toolUse: { name: 'add', input: { a: rollout, b: 1 } }, ...delay },
    { record: rolloutRecord(rollout, 1), text: `The sum is ${rollout + 1}.`, ...delay },
  ]
}
