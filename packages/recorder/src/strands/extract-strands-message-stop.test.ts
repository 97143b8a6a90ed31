import { BeforeModelCallEvent, ModelMessageStopEvent, ModelStreamUpdateEvent } from '@strands-agents/sdk'
import { toResponseFields } from '@vllm-tito/spec'
import { makeRecord } from '@vllm-tito/spec/testing'
import { describe, expect, test } from 'vitest'
import { extractStrandsMessageStop } from './extract-strands-message-stop'
import { makeAgent, ScriptedModel } from './test-support'
import { VLLMTokenRecorder } from './vllm-token-recorder'

describe('extractStrandsMessageStop on the real SDK events', () => {
  const agent = makeAgent(new ScriptedModel([]), [], 'agent-42')
  const record = makeRecord({ responseId: 'chatcmpl-extract' })
  const fields = toResponseFields(record)
  const stop = new ModelMessageStopEvent({
    type: 'modelMessageStopEvent',
    stopReason: 'endTurn',
    additionalModelResponseFields: fields as never,
  })

  test('finds the fields and the agent id in a ModelStreamUpdateEvent wrapping a message stop', () => {
    const event = new ModelStreamUpdateEvent({ agent, event: stop, invocationState: {} })
    expect(extractStrandsMessageStop(event)).toEqual({ fields, agentId: 'agent-42' })
    // a plain message-stop object, as a model provider yields it, wrapped by the agent
    const plain = new ModelStreamUpdateEvent({
      agent,
      event: {
        type: 'modelMessageStopEvent',
        stopReason: 'toolUse',
        additionalModelResponseFields: fields as never,
      },
      invocationState: {},
    })
    expect(extractStrandsMessageStop(plain)).toEqual({ fields, agentId: 'agent-42' })
  })

  test('finds the fields of a bare ModelMessageStopEvent', () => {
    expect(extractStrandsMessageStop(stop)).toEqual({ fields })
  })

  test('finds nothing in other events, nor in look-alikes that are not the SDK classes', () => {
    const blockStop = new ModelStreamUpdateEvent({
      agent,
      event: { type: 'modelContentBlockStopEvent' },
      invocationState: {},
    })
    expect(extractStrandsMessageStop(blockStop)).toBeUndefined()
    expect(
      extractStrandsMessageStop(new BeforeModelCallEvent({ agent, invocationState: {} } as never)),
    ).toBeUndefined()
    const lookAlike = { type: 'modelStreamUpdateEvent', agent: { id: 'x' }, event: { ...stop } }
    expect(extractStrandsMessageStop(lookAlike as never)).toBeUndefined()
  })

  test('the Strands recorder records what the extractor finds, once per event object', () => {
    const recorder = new VLLMTokenRecorder({ addToSpan: false })
    const event = new ModelStreamUpdateEvent({ agent, event: stop, invocationState: {} })
    recorder.handle(event)
    recorder.handle(event)
    expect(recorder.history).toEqual([record])
  })
})
