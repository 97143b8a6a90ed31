// the bundle as users import it: `import { VLLMModel, VLLMTokenRecorder, ... } from '@vllm-tito/strands'`
import { Agent, NullConversationManager, TextBlock } from '@strands-agents/sdk'
import { VLLMClient as ClientPackageVLLMClient } from '@vllm-tito/client'
import { VLLMTokenRecorder as RecorderPackageRecorder } from '@vllm-tito/recorder/strands'
import { TokenManager as TrajectoryPackageTokenManager } from '@vllm-tito/trajectory'
import { VLLMToolValidationHooks as ValidationPackageHooks } from '@vllm-tito/validation/strands'
import { describe, expect, it } from 'vitest'
import { replyEvents, scriptedClient } from './__fixtures__/scripted-client'
import {
  extractTokenRecord,
  TokenManager,
  VLLMClient,
  VLLMModel,
  VLLMTokenRecorder,
  VLLMToolValidationHooks,
} from './index'

describe('@vllm-tito/strands bundle', () => {
  it('re-exports the classes of the other packages themselves', () => {
    expect(VLLMClient).toBe(ClientPackageVLLMClient)
    expect(VLLMTokenRecorder).toBe(RecorderPackageRecorder)
    expect(TokenManager).toBe(TrajectoryPackageTokenManager)
    expect(VLLMToolValidationHooks).toBe(ValidationPackageHooks)
  })

  it('wires model, recorder, validation hooks and TokenManager together in one agent', async () => {
    const { events, record } = replyEvents({ text: ['Hello'] })
    const model = new VLLMModel({ modelId: 'Qwen/Qwen3-8B', client: scriptedClient([{ events }]) })
    const recorder = new VLLMTokenRecorder({ addToSpan: false })
    const agent = new Agent({
      model,
      printer: false,
      conversationManager: new NullConversationManager(),
      retryStrategy: null,
      plugins: [recorder, new VLLMToolValidationHooks()],
    })
    const result = await agent.invoke('Hi')

    expect(result.lastMessage.content).toEqual([new TextBlock('Hello')])
    expect(recorder.history).toEqual([record])
    expect(extractTokenRecord(result.lastMessage.metadata?.custom?.vllm)).toEqual(record)
    const manager = new TokenManager()
    manager.addPrompt(recorder.promptTokenIds!)
    manager.addResponse(recorder.tokenIds!)
    expect(manager.tokenIds).toEqual([151644, 872, 198, 9707, 151645])
    expect(manager.lossMask).toEqual([0, 0, 0, 1, 1])
  })
})
