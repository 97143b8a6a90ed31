import type { AgentConfig, AgentStreamEvent, Plugin } from '@strands-agents/sdk'
import type { TokenRecord, TokenRecordObserver } from '@vllm-tito/spec'
import { expectTypeOf, test } from 'vitest'
import { composeCallbacks } from '../compose-callbacks'
import { TokenRecorder as CoreTokenRecorder } from '../token-recorder'
import { createStrandsRecorderPlugin } from './create-strands-recorder-plugin'
import { VLLMTokenRecorder } from './vllm-token-recorder'

test('the Strands recorder is a Plugin, so plugins: [recorder] type-checks', () => {
  const recorder = new VLLMTokenRecorder()
  expectTypeOf(recorder).toExtend<Plugin>()
  expectTypeOf([recorder]).toExtend<NonNullable<AgentConfig['plugins']>>()
  expectTypeOf(recorder).toExtend<CoreTokenRecorder<AgentStreamEvent>>()
  expectTypeOf(recorder).toExtend<TokenRecordObserver>()
})

test('the members strands-vllm also has keep their documented types', () => {
  const recorder = new VLLMTokenRecorder()
  expectTypeOf(recorder.promptTokenIds).toEqualTypeOf<number[] | null>()
  expectTypeOf(recorder.tokenIds).toEqualTypeOf<number[] | null>()
  expectTypeOf(recorder.history).toEqualTypeOf<readonly TokenRecord[]>()
  expectTypeOf(recorder.reset).toBeFunction()
})

test('inner and callback take agent stream events; composeCallbacks keeps the event type', () => {
  new VLLMTokenRecorder({
    inner: (event) => {
      expectTypeOf(event).toEqualTypeOf<AgentStreamEvent>()
    },
  })
  const recorder = new VLLMTokenRecorder()
  const composed = composeCallbacks((event: AgentStreamEvent) => event.type, recorder.callback)
  expectTypeOf(composed).parameter(0).toEqualTypeOf<AgentStreamEvent>()
  // a core recorder of any event type can be wrapped as a plugin
  expectTypeOf(createStrandsRecorderPlugin(new CoreTokenRecorder())).toEqualTypeOf<Plugin>()
  // @ts-expect-error: inner must be a function
  new VLLMTokenRecorder({ inner: 'print' })
})
