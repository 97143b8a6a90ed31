import {
  Agent,
  type BaseModelConfig,
  type Message,
  Model,
  type ModelStreamEvent,
  NullConversationManager,
  tool,
} from '@strands-agents/sdk'
import { INVALID_JSON_ARGUMENTS_KEY, InvalidOptionError } from '@vllm-tito/spec'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { InvalidToolSchemaError } from '../invalid-tool-schema-error'
import { VLLMToolValidationHooks } from './vllm-tool-validation-hooks'

/** One scripted tool call: the name and the raw argument text the "model" emits. */
interface ScriptedCall {
  name: string
  arguments: string
}

/**
 * The boundary this test is not about: a model that replays scripted turns (tool calls, then a final text)
 * and remembers the messages it was sent, so the test reads the tool results exactly as a provider would.
 */
class ScriptedModel extends Model<BaseModelConfig> {
  readonly received: Message[][] = []
  #config: BaseModelConfig = { modelId: 'scripted' }
  #turn = 0

  constructor(private readonly turns: ScriptedCall[][]) {
    super()
  }

  updateConfig(modelConfig: BaseModelConfig): void {
    this.#config = { ...this.#config, ...modelConfig }
  }

  getConfig(): BaseModelConfig {
    return this.#config
  }

  async *stream(messages: Message[]): AsyncIterable<ModelStreamEvent> {
    this.received.push([...messages])
    const calls = this.turns[this.#turn] ?? []
    this.#turn += 1
    yield { type: 'modelMessageStartEvent', role: 'assistant' }
    if (calls.length === 0) {
      yield { type: 'modelContentBlockStartEvent' }
      yield { type: 'modelContentBlockDeltaEvent', delta: { type: 'textDelta', text: 'done' } }
      yield { type: 'modelContentBlockStopEvent' }
      yield { type: 'modelMessageStopEvent', stopReason: 'endTurn' }
      return
    }
    for (const [index, call] of calls.entries()) {
      yield {
        type: 'modelContentBlockStartEvent',
        start: { type: 'toolUseStart', name: call.name, toolUseId: `call-${this.#turn}-${index}` },
      }
      yield {
        type: 'modelContentBlockDeltaEvent',
        delta: { type: 'toolUseInputDelta', input: call.arguments },
      }
      yield { type: 'modelContentBlockStopEvent' }
    }
    yield { type: 'modelMessageStopEvent', stopReason: 'toolUse' }
  }

  /** The tool results of the last request, in call order, as `status: text`. */
  lastToolResults(): string[] {
    const lastRequest = this.received.at(-1) ?? []
    const results: string[] = []
    for (const message of lastRequest.slice(-1)) {
      for (const block of message.content) {
        if (block.type !== 'toolResultBlock') continue
        const text = block.content
          .map((part) => (part.type === 'textBlock' ? part.text : JSON.stringify(part)))
          .join('')
        results.push(`${block.status}: ${text}`)
      }
    }
    return results
  }
}

const ran: string[] = []

const calculator = tool({
  name: 'calculator',
  description: 'Evaluates an arithmetic expression',
  inputSchema: {
    type: 'object',
    properties: { expression: { type: 'string' }, precision: { type: 'integer', minimum: 0 } },
    required: ['expression'],
    additionalProperties: false,
  },
  callback: (input) => {
    ran.push(`calculator ${JSON.stringify(input)}`)
    return 'ok'
  },
})

const search = tool({
  name: 'search',
  description: 'Searches the web',
  inputSchema: z.object({
    query: z.string(),
    limit: z.number().int().min(1).max(10).optional(),
    region: z.enum(['eu', 'us']).optional(),
    filters: z.object({ site: z.string() }).optional(),
  }),
  callback: (input) => {
    ran.push(`search ${JSON.stringify(input)}`)
    return 'found'
  },
})

const weather = tool({
  name: 'weather',
  description: 'Weather for a city',
  inputSchema: z.object({ city: z.string() }),
  callback: () => 'sunny',
})

async function runAgent(
  turns: ScriptedCall[][],
  hooks: VLLMToolValidationHooks,
  tools = [calculator, search, weather],
): Promise<ScriptedModel> {
  const model = new ScriptedModel([...turns, []])
  const agent = new Agent({
    model,
    tools,
    plugins: [hooks],
    printer: false,
    conversationManager: new NullConversationManager(),
    retryStrategy: null,
  })
  ran.length = 0
  await agent.invoke('go')
  return model
}

describe('VLLMToolValidationHooks on a real Strands agent', () => {
  it('answers an unknown tool with the allowed tools in registry order', async () => {
    const model = await runAgent([[{ name: 'fake_tool', arguments: '{}' }]], new VLLMToolValidationHooks())
    expect(model.lastToolResults()).toEqual([
      'error: Error: unknown tool: fake_tool | allowed_tools=[calculator, search, weather]',
    ])
  })

  it('cuts the allowed tools at maxAllowedToolsInError', async () => {
    const model = await runAgent(
      [[{ name: 'fake_tool', arguments: '{}' }]],
      new VLLMToolValidationHooks({ maxAllowedToolsInError: 2 }),
    )
    expect(model.lastToolResults()).toEqual([
      'error: Error: unknown tool: fake_tool | allowed_tools=[calculator, search, ... (+1 more)]',
    ])
  })

  it('leaves the allowed tools out when includeAllowedToolsInErrors is false', async () => {
    const model = await runAgent(
      [[{ name: 'fake_tool', arguments: '{}' }]],
      new VLLMToolValidationHooks({ includeAllowedToolsInErrors: false }),
    )
    expect(model.lastToolResults()).toEqual(['error: Error: unknown tool: fake_tool'])
  })

  it('gives the strands-vllm texts for missing and unknown arguments of a JSON-schema tool', async () => {
    const model = await runAgent(
      [
        [
          { name: 'calculator', arguments: '{}' },
          { name: 'calculator', arguments: '{"expression":"1+1","invalid_param":1}' },
          { name: 'calculator', arguments: '{"expression":"1+1","precision":2}' },
        ],
      ],
      new VLLMToolValidationHooks(),
    )
    expect(model.lastToolResults()).toEqual([
      'error: Error: tool_name=<calculator> | missing required argument(s): expression',
      'error: Error: tool_name=<calculator> | unknown argument(s): invalid_param',
      'success: ok',
    ])
    expect(ran).toEqual(['calculator {"expression":"1+1","precision":2}'])
  })

  it('checks types, enums, ranges and nested objects of a zod tool with its own wording', async () => {
    const model = await runAgent(
      [
        [
          { name: 'search', arguments: '{"query":7,"limit":11,"region":"asia","filters":{"site":1,"x":2}}' },
          { name: 'search', arguments: '{"query":"tito","limit":3}' },
        ],
      ],
      new VLLMToolValidationHooks(),
    )
    expect(model.lastToolResults()).toEqual([
      'error: Error: tool_name=<search> | invalid argument(s): filters.site: must be string; filters.x: is not allowed; limit: must be <= 10; query: must be string; region: must be one of "eu", "us"',
      'success: found',
    ])
    expect(ran).toEqual(['search {"query":"tito","limit":3}'])
  })

  it('treats the provider wrapper of malformed JSON, a JSON string and non-objects as strands-vllm does', async () => {
    const wrapper = JSON.stringify({ [INVALID_JSON_ARGUMENTS_KEY]: '{"city": "Par' })
    const model = await runAgent(
      [
        [
          { name: 'weather', arguments: wrapper },
          { name: 'weather', arguments: JSON.stringify('{"city": "Par') },
          { name: 'weather', arguments: '[1,2]' },
          { name: 'weather', arguments: '42' },
          { name: 'weather', arguments: 'null' },
          { name: 'weather', arguments: JSON.stringify('{"city":"Paris"}') },
        ],
      ],
      new VLLMToolValidationHooks(),
    )
    // the last call's arguments were a JSON string: the zod tool ran on the parsed object
    expect(model.lastToolResults()).toEqual([
      'error: Error: tool_name=<weather> | tool input is not valid JSON',
      'error: Error: tool_name=<weather> | tool input is not valid JSON',
      'error: Error: tool_name=<weather> | tool input must be an object',
      'error: Error: tool_name=<weather> | tool input must be an object',
      // strands-vllm reads a null input as {}
      'error: Error: tool_name=<weather> | missing required argument(s): city',
      'success: sunny',
    ])
  })

  it('never lets __proto__ or constructor keys through nor pollutes prototypes', async () => {
    const model = await runAgent(
      [
        [
          { name: 'weather', arguments: '{"city":"Paris","__proto__":{"polluted":true}}' },
          { name: 'weather', arguments: '{"city":"Paris","constructor":{"prototype":{"polluted":true}}}' },
          { name: '__proto__', arguments: '{}' },
        ],
      ],
      new VLLMToolValidationHooks({ maxAllowedToolsInError: 0 }),
    )
    expect(model.lastToolResults()).toEqual([
      'error: Error: tool_name=<weather> | unknown argument(s): __proto__',
      'error: Error: tool_name=<weather> | unknown argument(s): constructor',
      'error: Error: unknown tool: __proto__ | allowed_tools=[... (+3 more)]',
    ])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('rejects deep nesting and a 10 MB string quickly, and the agent goes on', async () => {
    const nested = (levels: number) => `{"city":${'['.repeat(levels)}${']'.repeat(levels)}}`
    const huge = JSON.stringify({ city: 'x'.repeat(10 * 1024 * 1024) })
    const started = performance.now()
    // 10,000 levels as a parsed object would already overflow the SDK's own JSON.stringify-based message copy
    // before any hook runs, so the provider hands such arguments over as raw text (wrapper or JSON string)
    const model = await runAgent(
      [
        [
          { name: 'weather', arguments: nested(1_000) },
          { name: 'weather', arguments: JSON.stringify({ [INVALID_JSON_ARGUMENTS_KEY]: nested(10_000) }) },
          { name: 'weather', arguments: JSON.stringify(nested(10_000)) },
          { name: 'weather', arguments: huge },
          { name: 'weather', arguments: JSON.stringify(huge) },
          { name: 'weather', arguments: JSON.stringify({ [INVALID_JSON_ARGUMENTS_KEY]: huge }) },
        ],
      ],
      new VLLMToolValidationHooks(),
    )
    const tooDeep = 'error: Error: tool_name=<weather> | tool input is nested too deeply (limit 64 levels)'
    const tooLarge = 'error: Error: tool_name=<weather> | tool input is too large (limit 1000000 characters)'
    expect(model.lastToolResults()).toEqual([tooDeep, tooDeep, tooDeep, tooLarge, tooLarge, tooLarge])
    expect(performance.now() - started).toBeLessThan(5_000)
  })

  it('applies configured limits', async () => {
    const model = await runAgent(
      [
        [
          { name: 'weather', arguments: '{"city":{"a":{"b":1}}}' },
          { name: 'weather', arguments: '{"city":"Reykjavik"}' },
        ],
      ],
      new VLLMToolValidationHooks({ maxDepth: 2, maxInputCharacters: 12 }),
    )
    expect(model.lastToolResults()).toEqual([
      'error: Error: tool_name=<weather> | tool input is nested too deeply (limit 2 levels)',
      'error: Error: tool_name=<weather> | tool input is too large (limit 12 characters)',
    ])
  })

  it('checks only tool names when validateInputShape is false', async () => {
    const model = await runAgent(
      [
        [
          { name: 'calculator', arguments: '{"invalid_param":1}' },
          { name: 'nope', arguments: '{}' },
        ],
      ],
      new VLLMToolValidationHooks({ validateInputShape: false }),
    )
    expect(model.lastToolResults()).toEqual([
      'success: ok',
      'error: Error: unknown tool: nope | allowed_tools=[calculator, search, weather]',
    ])
  })

  it('counts unknown and invalid calls per tool and by kind', async () => {
    const hooks = new VLLMToolValidationHooks()
    await runAgent(
      [
        [
          { name: 'nope', arguments: '{}' },
          { name: 'nope', arguments: '{}' },
          { name: 'calculator', arguments: '{}' },
        ],
        [
          { name: 'calculator', arguments: '{"expression":"1","precision":-1}' },
          { name: 'weather', arguments: '{"city":"Oslo"}' },
        ],
      ],
      hooks,
    )
    const zero = {
      'unknown-tool': 0,
      'invalid-json': 0,
      'not-an-object': 0,
      'too-large': 0,
      'too-deep': 0,
      'missing-arguments': 0,
      'unknown-arguments': 0,
      'invalid-arguments': 0,
    }
    expect(Object.fromEntries(hooks.counts)).toEqual({
      nope: { unknown: 2, invalid: 0, byKind: { ...zero, 'unknown-tool': 2 } },
      calculator: {
        unknown: 0,
        invalid: 2,
        byKind: { ...zero, 'missing-arguments': 1, 'invalid-arguments': 1 },
      },
    })
    expect(hooks.totals).toEqual({
      unknown: 2,
      invalid: 2,
      byKind: { ...zero, 'unknown-tool': 2, 'missing-arguments': 1, 'invalid-arguments': 1 },
    })
    hooks.resetCounts()
    expect(hooks.counts.size).toBe(0)
  })

  it('fails the first invoke with the tool name when a schema does not compile', async () => {
    const broken = tool({
      name: 'broken',
      description: 'a typo in its schema',
      inputSchema: { type: 'object', properties: { city: { type: 'strnig' } } } as never,
      callback: () => 'never',
    })
    const agent = new Agent({
      model: new ScriptedModel([[]]),
      tools: [broken],
      plugins: [new VLLMToolValidationHooks()],
      printer: false,
    })
    const failure = await agent.invoke('go').then(
      () => undefined,
      (error: unknown) => error,
    )
    expect(InvalidToolSchemaError.isInstance(failure)).toBe(true)
    expect((failure as InvalidToolSchemaError).toolName).toBe('broken')
    expect((failure as InvalidToolSchemaError).message).toMatch(
      /^the input schema of tool "broken" does not compile: /,
    )
  })

  it('keeps the strands-vllm checks for a tool added after set-up whose schema does not compile', async () => {
    const hooks = new VLLMToolValidationHooks()
    const model = new ScriptedModel([
      [],
      [
        { name: 'late', arguments: '{}' },
        { name: 'late', arguments: '{"city":"Oslo","other":1}' },
        { name: 'late', arguments: '{"city":"Oslo"}' },
      ],
      [],
    ])
    const agent = new Agent({ model, tools: [weather], plugins: [hooks], printer: false })
    await agent.invoke('first')
    const late = tool({
      name: 'late',
      description: 'registered after the first invoke, with a broken schema',
      inputSchema: {
        type: 'object',
        properties: { city: { type: 'string', minLength: 'one' } },
        required: ['city'],
        additionalProperties: false,
      } as never,
      callback: () => 'late ok',
    })
    agent.toolRegistry.add(late)
    await agent.invoke('second')
    expect(model.lastToolResults()).toEqual([
      'error: Error: tool_name=<late> | missing required argument(s): city',
      'error: Error: tool_name=<late> | unknown argument(s): other',
      'success: late ok',
    ])
    expect([...hooks.schemaProblems.keys()]).toEqual(['late'])
    expect(hooks.schemaProblems.get('late')?.toolName).toBe('late')
  })

  it('rejects out-of-range and misspelt options with an InvalidOptionError naming the option', () => {
    expect(() => new VLLMToolValidationHooks({ maxAllowedToolsInError: -1 })).toThrow(
      'new VLLMToolValidationHooks: option `maxAllowedToolsInError` must be an integer >= 0, got -1',
    )
    expect(() => new VLLMToolValidationHooks({ maxDepth: 0 })).toThrow(
      'new VLLMToolValidationHooks: option `maxDepth` must be an integer >= 1, got 0',
    )
    expect(() => new VLLMToolValidationHooks({ validateInputShapes: false } as never)).toThrow(
      'new VLLMToolValidationHooks: unknown option `validateInputShapes` (did you mean `validateInputShape`?); known options: includeAllowedToolsInErrors, maxAllowedToolsInError, validateInputShape, fullSchemaValidation, maxInputCharacters, maxDepth, maxViolationsInError, maxViolationCharacters',
    )
    expect(() => new VLLMToolValidationHooks({ maxDepth: 0 })).toThrow(InvalidOptionError)
  })
})
