import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type AgentStreamEvent,
  MaxTokensError,
  ModelError,
  ModelStreamUpdateEvent,
} from '@strands-agents/sdk'
import { InvalidOptionError } from '@vllm-tito/spec'
import { makeRecord } from '@vllm-tito/spec/testing'
import { afterAll, describe, expect, test, vi } from 'vitest'
import { composeCallbacks } from '../compose-callbacks'
import { JsonlFileSink } from '../jsonl-file-sink'
import { MemorySink } from '../memory-sink'
import { tokenRecordAttributes } from '../otel/token-record-attributes'
import { readJsonlRecords } from '../read-jsonl-records'
import type { RecorderError } from '../recorder-error'
import { TokenRecorder as CoreTokenRecorder } from '../token-recorder'
import { createStrandsRecorderPlugin, STRANDS_RECORDER_PLUGIN_NAME } from './create-strands-recorder-plugin'
import { extractStrandsMessageStop } from './extract-strands-message-stop'
import { makeAgent, rolloutRecord, ScriptedModel, twoTurnScript } from './test-support'
import { VLLMTokenRecorder } from './vllm-token-recorder'

// the attribute builder, wrapped to count its calls (it still computes what it did)
vi.mock('../otel/token-record-attributes', async (importOriginal) => {
  const original = await importOriginal<typeof import('../otel/token-record-attributes')>()
  return { ...original, tokenRecordAttributes: vi.fn(original.tokenRecordAttributes) }
})

const folder = mkdtempSync(join(tmpdir(), 'recorder-strands-'))

afterAll(() => {
  rmSync(folder, { recursive: true, force: true })
})

describe('as a Strands plugin: new Agent({ plugins: [recorder] })', () => {
  test('records every model call of a tool-using run, in order', async () => {
    const recorder = new VLLMTokenRecorder({ addToSpan: false })
    const script = twoTurnScript(3)
    const agent = makeAgent(new ScriptedModel(script), [recorder])
    const result = await agent.invoke('add 3 and 1')

    expect(String(result)).toBe('The sum is 4.')
    expect(recorder.history).toEqual([script[0]?.record, script[1]?.record])
    expect(recorder.history.map((record) => record.responseId)).toEqual(['chatcmpl-r3-t0', 'chatcmpl-r3-t1'])
    expect(recorder.promptTokenIds).toEqual([151644, 1003, 2001])
    expect(recorder.tokenIds).toEqual([3031, 151645])
    expect(recorder.name).toBe('vllm-tito:token-recorder')
  })

  test('a maxTokens stop throws MaxTokensError, and the record of that call is already captured', async () => {
    const recorder = new VLLMTokenRecorder({ addToSpan: false })
    const record = makeRecord({ responseId: 'chatcmpl-cut', finishReason: 'length' })
    const agent = makeAgent(new ScriptedModel([{ record, text: 'Half an ans', stopReason: 'maxTokens' }]), [
      recorder,
    ])
    await expect(agent.invoke('write a lot')).rejects.toBeInstanceOf(MaxTokensError)
    expect(recorder.history).toEqual([record])
  })

  test('a provider failing after the message stop fails the run but not the record', async () => {
    const recorder = new VLLMTokenRecorder({ addToSpan: false })
    const record = rolloutRecord(1, 0)
    const agent = makeAgent(
      new ScriptedModel([{ record, text: 'hi', errorAfterStop: new Error('connection reset after stop') }]),
      [recorder],
    )
    await expect(agent.invoke('hi')).rejects.toBeInstanceOf(ModelError)
    expect(recorder.history).toEqual([record])
  })

  test('a user hook that throws on the same event cannot run first and lose the record', async () => {
    const recorder = new VLLMTokenRecorder({ addToSpan: false })
    const record = rolloutRecord(1, 0)
    const model = new ScriptedModel([{ record, text: 'hi' }])
    const agent = makeAgent(model, [recorder])
    // registered with the default order, as users do
    agent.addHook(ModelStreamUpdateEvent, (event) => {
      if (event.event.type === 'modelMessageStopEvent') throw new Error('user hook bug')
    })
    await expect(agent.invoke('hi')).rejects.toThrow('user hook bug')
    expect(recorder.history).toEqual([record])
  })

  test('an inner callback sees exactly the events an agent.stream() consumer sees, in the same order', async () => {
    const forwarded: AgentStreamEvent[] = []
    const recorder = new VLLMTokenRecorder({ addToSpan: false, inner: (event) => void forwarded.push(event) })
    const agent = makeAgent(new ScriptedModel(twoTurnScript(2)), [recorder])
    const streamed: AgentStreamEvent[] = []
    for await (const event of agent.stream('add 2 and 1')) streamed.push(event)

    expect(forwarded).toHaveLength(streamed.length)
    forwarded.forEach((event, index) => {
      expect(event).toBe(streamed[index])
    })
    expect(recorder.history.map((record) => record.responseId)).toEqual(['chatcmpl-r2-t0', 'chatcmpl-r2-t1'])
  })

  test('a core recorder with the Strands extractor becomes a plugin with createStrandsRecorderPlugin', async () => {
    const recorder = new CoreTokenRecorder<AgentStreamEvent>({
      extractMessageStop: extractStrandsMessageStop,
    })
    const plugin = createStrandsRecorderPlugin(recorder, { name: 'my-recorder' })
    expect(plugin.name).toBe('my-recorder')
    const agent = makeAgent(new ScriptedModel(twoTurnScript(4)), [plugin])
    await agent.invoke('add 4 and 1')
    expect(recorder.history.map((record) => record.responseId)).toEqual(['chatcmpl-r4-t0', 'chatcmpl-r4-t1'])
    expect(createStrandsRecorderPlugin(recorder).name).toBe(STRANDS_RECORDER_PLUGIN_NAME)
  })

  test('a core recorder without an extractor is refused: as a plugin it would record nothing', () => {
    expect(() => createStrandsRecorderPlugin(new CoreTokenRecorder())).toThrow(
      'createStrandsRecorderPlugin: the recorder has no `extractMessageStop`, so it would record nothing from Strands events: create it with `extractMessageStop: extractStrandsMessageStop`, or use `VLLMTokenRecorder` from @vllm-tito/recorder/strands',
    )
    expect(() => createStrandsRecorderPlugin(new CoreTokenRecorder())).toThrow(InvalidOptionError)
  })

  test('spans default to the OpenTelemetry writer (strands-vllm add_to_span=True); addToSpan: false turns them off', () => {
    expect(new VLLMTokenRecorder().spanWriter).toBeDefined()
    expect(new VLLMTokenRecorder({ addToSpan: false }).spanWriter).toBeUndefined()
    const own = { writeSpan() {} }
    expect(new VLLMTokenRecorder({ spanWriter: own }).spanWriter).toBe(own)
  })

  test('with no tracer provider registered the default span writer runs per call, computes no attributes and fails nothing', async () => {
    const errors: RecorderError[] = []
    const recorder = new VLLMTokenRecorder({ onError: (error) => errors.push(error) })
    const writeSpan = vi.spyOn(recorder.spanWriter!, 'writeSpan')
    vi.mocked(tokenRecordAttributes).mockClear()
    const script = twoTurnScript(5)
    await makeAgent(new ScriptedModel(script), [recorder]).invoke('add 5 and 1')
    expect(recorder.history).toEqual([script[0]?.record, script[1]?.record])
    // the writer ran for both calls, but the global API's spans are non-recording: no attribute was computed
    expect(writeSpan).toHaveBeenCalledTimes(2)
    expect(tokenRecordAttributes).not.toHaveBeenCalled()
    expect(errors).toEqual([])
  })
})

describe('as a callback over agent.stream() events', () => {
  test('recorder.handle(event) in the consumer loop records every call and chains inner', async () => {
    const innerTypes: string[] = []
    const recorder = new CoreTokenRecorder<AgentStreamEvent>({
      extractMessageStop: extractStrandsMessageStop,
      inner: (event) => void innerTypes.push(event.type),
    })
    const agent = makeAgent(new ScriptedModel(twoTurnScript(6)))
    const streamedTypes: string[] = []
    for await (const event of agent.stream('add 6 and 1')) {
      streamedTypes.push(event.type)
      recorder.handle(event)
    }
    expect(recorder.history.map((record) => record.responseId)).toEqual(['chatcmpl-r6-t0', 'chatcmpl-r6-t1'])
    expect(innerTypes).toEqual(streamedTypes)
    expect(innerTypes.filter((type) => type === 'modelStreamUpdateEvent')).toHaveLength(12)
  })

  test('composed after a printer that throws, the record is kept and the error reaches the loop', async () => {
    const recorder = new CoreTokenRecorder<AgentStreamEvent>({
      extractMessageStop: extractStrandsMessageStop,
    })
    const printed: string[] = []
    const printer = (event: AgentStreamEvent) => {
      printed.push(event.type)
      if (event.type === 'modelStreamUpdateEvent' && event.event.type === 'modelMessageStopEvent') {
        throw new Error('printer cannot render stop')
      }
    }
    const callback = composeCallbacks(printer, recorder.callback)
    const agent = makeAgent(new ScriptedModel(twoTurnScript(7)))
    const failure = await (async () => {
      for await (const event of agent.stream('add 7 and 1')) callback(event)
    })().catch((error: unknown) => error as Error)
    expect(failure?.message).toBe('printer cannot render stop')
    expect(recorder.history.map((record) => record.responseId)).toEqual(['chatcmpl-r7-t0'])
  })

  test('attached as plugin AND fed the stream, each call is recorded once and inner sees each event once', async () => {
    let innerCalls = 0
    const recorder = new VLLMTokenRecorder({
      addToSpan: false,
      inner: () => {
        innerCalls += 1
      },
    })
    const agent = makeAgent(new ScriptedModel(twoTurnScript(8)), [recorder])
    let streamedCount = 0
    for await (const event of agent.stream('add 8 and 1')) {
      streamedCount += 1
      recorder.handle(event)
    }
    expect(recorder.history).toHaveLength(2)
    expect(innerCalls).toBe(streamedCount)
  })
})

describe('32 agents in parallel', () => {
  test('never mix records: one recorder per rollout, shared memory and JSONL sinks tagged by rollout id', async () => {
    const rollouts = Array.from({ length: 32 }, (_, index) => index)
    const memory = new MemorySink()
    const jsonl = new JsonlFileSink(join(folder, 'rollouts.jsonl'))
    const fanOut = {
      write: (entry: Parameters<MemorySink['write']>[0]) => {
        memory.write(entry)
        jsonl.write(entry)
      },
      flush: async () => {},
      close: async () => {},
    }
    const scripts = rollouts.map((rollout) => twoTurnScript(rollout, (rollout * 7) % 13))
    const recorders = rollouts.map(
      (rollout) => new VLLMTokenRecorder({ addToSpan: false, sink: fanOut, rolloutId: `rollout-${rollout}` }),
    )
    await Promise.all(
      rollouts.map((rollout) =>
        makeAgent(new ScriptedModel(scripts[rollout]!), [recorders[rollout]!], `agent-${rollout}`).invoke(
          `add ${rollout} and 1`,
        ),
      ),
    )
    await jsonl.close()

    // the scripted delays interleave the rollouts in the shared sinks
    const order = memory.entries.map((entry) => entry.rolloutId)
    expect(order.slice(0, 32)).not.toEqual(rollouts.map((rollout) => `rollout-${rollout}`))
    const { entries: fromFile } = await readJsonlRecords(jsonl.path)
    expect(fromFile).toHaveLength(64)
    for (const rollout of rollouts) {
      const expected = [scripts[rollout]![0]!.record, scripts[rollout]![1]!.record]
      expect(recorders[rollout]!.history).toEqual(expected)
      expect(memory.recordsOf(`rollout-${rollout}`)).toEqual(expected)
      const mine = fromFile.filter((entry) => entry.rolloutId === `rollout-${rollout}`)
      expect(mine.map((entry) => entry.callIndex)).toEqual([0, 1])
      expect(mine.map((entry) => entry.record)).toEqual(expected)
    }
  })
})
