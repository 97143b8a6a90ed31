import { VLLMClient, type VLLMClientOptions } from '@vllm-tito/client'
import type { ClientCallObserver, TokenRecordObserver } from '@vllm-tito/spec'
import { expectTypeOf, test } from 'vitest'
import { TokenRecorder } from './token-recorder'

test('a TokenRecorder is both a client observer and a record observer, so it can be passed as either', () => {
  const recorder = new TokenRecorder()
  expectTypeOf(recorder).toExtend<ClientCallObserver>()
  expectTypeOf(recorder).toExtend<TokenRecordObserver>()
  expectTypeOf(recorder).toExtend<NonNullable<VLLMClientOptions['observer']>>()
  new VLLMClient({ baseUrl: 'http://127.0.0.1:8000', observer: recorder })
  new TokenRecorder({ observers: [recorder] })
})
