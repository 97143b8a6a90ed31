// A TokenRecorder passed to VLLMClient as its observer, over HTTP against the real mock-vllm: every call's
// records land in the history and the sink, in call order, with nothing else wired up.
import { VLLMClient } from '@vllm-tito/client'
import { type MockVllmServer, startMockVllm } from '@vllm-tito/mock-vllm'
import type { ChatRequest } from '@vllm-tito/spec'
import { makeRecord } from '@vllm-tito/spec/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { MemorySink } from './memory-sink'
import type { RecorderError } from './recorder-error'
import { TokenRecorder } from './token-recorder'

const request: ChatRequest = { model: 'Qwen/Qwen3-8B', messages: [{ role: 'user', content: 'Hi' }] }

let server: MockVllmServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

describe('TokenRecorder as a VLLMClient observer', () => {
  it('records every choice of every call, in order, and writes each to the sink', async () => {
    // a scripted reply per request: both choices of the n = 2 call say 'Two.'
    server = await startMockVllm({ policy: { script: ['One.', 'Two.'] } })
    const sink = new MemorySink()
    const recorder = new TokenRecorder({ rolloutId: 'rollout-0', sink })
    const client = new VLLMClient({ baseUrl: server.baseUrl, observer: recorder })
    const [first] = await client.chat.stream(request).final()
    const pair = await client.chat.create({ ...request, n: 2 })
    expect(recorder.history).toEqual([first, ...pair])
    expect(recorder.history.map((record) => [record.text, record.choiceIndex])).toEqual([
      ['One.', 0],
      ['Two.', 0],
      ['Two.', 1],
    ])
    expect(recorder.tokenIds).toEqual(pair[1]!.tokenIds)
    expect(sink.entries.map((entry) => [entry.rolloutId, entry.callIndex])).toEqual([
      ['rollout-0', 0],
      ['rollout-0', 1],
      ['rollout-0', 2],
    ])
  })

  it('reports a record that fails the shape check instead of throwing it into the client', () => {
    const errors: RecorderError[] = []
    const recorder = new TokenRecorder({ onError: (error) => errors.push(error) })
    const good = makeRecord()
    recorder.onRecords([makeRecord({ tokenIds: [-1] }), good])
    expect(recorder.history).toEqual([good])
    expect(errors.map((error) => [error.source, error.message])).toEqual([
      ['record', expect.stringMatching(/^TokenRecorder: client observer got an invalid token record: /)],
    ])
  })
})
