import type { TokenRecord, TokenStream, TokenStreamEvent, TokenStreamingClient } from '@vllm-tito/spec'
import { expectTypeOf, test } from 'vitest'
import { VLLMClient, type VLLMTokenStream } from './index'

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
