import type {
  ClientCallObserver,
  TokenRecord,
  TokenStream,
  TokenStreamEvent,
  TokenStreamingClient,
} from '@vllm-tito/spec'
import { expectTypeOf, test } from 'vitest'
import { VLLMClient, type VLLMClientOptions, type VLLMTokenStream } from './index'

test('VLLMClient structurally implements the spec TokenStreamingClient', () => {
  expectTypeOf<VLLMClient>().toExtend<TokenStreamingClient>()
  expectTypeOf<VLLMTokenStream>().toExtend<TokenStream>()
  expectTypeOf<VLLMTokenStream>().toExtend<AsyncIterable<TokenStreamEvent>>()
  expectTypeOf<VLLMClient['chat']['create']>().returns.toEqualTypeOf<Promise<TokenRecord[]>>()
  expectTypeOf<VLLMClient['completions']['stream']>().returns.toEqualTypeOf<VLLMTokenStream>()
  const client = new VLLMClient({ baseUrl: 'http://127.0.0.1:8000' })
  const asContract: TokenStreamingClient = client
  expectTypeOf(asContract.chat.stream).parameter(0).toHaveProperty('messages')
})

test('the observer option takes a partial ClientCallObserver, and rejects one with no observer method', () => {
  const records: TokenRecord[] = []
  new VLLMClient({
    baseUrl: 'http://127.0.0.1:8000',
    observer: { onRecords: (batch) => records.push(...batch) },
  })
  new VLLMClient({ baseUrl: 'http://127.0.0.1:8000', observer: { onError: (error) => console.error(error) } })
  // @ts-expect-error onRecord (singular) is the TokenRecordObserver method, not a client observer's
  new VLLMClient({ baseUrl: 'http://127.0.0.1:8000', observer: { onRecord: () => {} } })
  expectTypeOf<NonNullable<VLLMClientOptions['observer']>>().toEqualTypeOf<ClientCallObserver>()
})
