// type contracts as a consumer package sees them: imported by package name, through the exports map
import {
  type ChatRequest,
  type ClientCallObserver,
  noopClientCallObserver,
  noopTokenRecordObserver,
  noopTokenRecordSink,
  type TokenRecord,
  type TokenRecordObserver,
  type TokenRecordSink,
  type TokenStream,
  type TokenStreamEvent,
  type TokenStreamingClient,
  VLLMTitoError,
} from '@vllm-tito/spec'
import { describe, expectTypeOf, it } from 'vitest'

describe('spec contracts', () => {
  it('no-op implementations satisfy their interfaces', () => {
    expectTypeOf(noopTokenRecordObserver).toExtend<TokenRecordObserver>()
    expectTypeOf(noopClientCallObserver).toExtend<ClientCallObserver>()
    expectTypeOf(noopTokenRecordSink).toExtend<TokenRecordSink>()
  })

  it('a ClientCallObserver may implement any subset of its methods, but not none of them by another name', () => {
    const recordsOnly: ClientCallObserver = { onRecords: (records) => console.log(records.length) }
    expectTypeOf(recordsOnly.onRecords).toEqualTypeOf<((records: TokenRecord[]) => void) | undefined>()
    const attemptsAndErrors: ClientCallObserver = { onAttempt: () => {}, onError: () => {} }
    expectTypeOf(attemptsAndErrors).toExtend<ClientCallObserver>()
    // a TokenRecordObserver's method is not a client observer's (weak type: no property in common)
    // @ts-expect-error onRecord is not a ClientCallObserver method
    const misnamed: ClientCallObserver = { onRecord: () => {} }
    expectTypeOf(misnamed).toExtend<ClientCallObserver>()
    expectTypeOf(noopClientCallObserver.onRecords).toEqualTypeOf<(records: TokenRecord[]) => void>()
  })

  it('narrows stream events by type', () => {
    const handle = (event: TokenStreamEvent) => {
      if (event.type === 'token-delta') expectTypeOf(event.tokenIds).toEqualTypeOf<number[]>()
      if (event.type === 'response-end') expectTypeOf(event.records).toEqualTypeOf<TokenRecord[]>()
      if (event.type === 'choice-end') expectTypeOf(event.stopReason).toEqualTypeOf<number | string | null>()
    }
    expectTypeOf(handle).parameter(0).toEqualTypeOf<TokenStreamEvent>()
  })

  it('pins the record layout', () => {
    expectTypeOf<TokenRecord['schemaVersion']>().toEqualTypeOf<1>()
    expectTypeOf<TokenRecord['promptTokenIds']>().toEqualTypeOf<number[] | null>()
    expectTypeOf<TokenRecord['logprobs']>().toEqualTypeOf<Array<number | null> | null>()
    expectTypeOf<TokenRecord['verification']['verified']>().toEqualTypeOf<boolean>()
  })

  it('lets a plain object implement the streaming client', () => {
    const stream = {} as TokenStream
    const client = { chat: { stream: (_request: ChatRequest) => stream } }
    expectTypeOf(client).toExtend<TokenStreamingClient>()
    expectTypeOf<TokenStream>().toExtend<AsyncIterable<TokenStreamEvent>>()
    // @ts-expect-error a request needs messages and model
    const bad: ChatRequest = { model: 'm' }
    expectTypeOf(bad).toEqualTypeOf<ChatRequest>()
  })

  it('exposes isInstance as a type guard', () => {
    const error: unknown = new Error('x')
    if (VLLMTitoError.isInstance(error)) expectTypeOf(error).toEqualTypeOf<VLLMTitoError>()
  })
})
