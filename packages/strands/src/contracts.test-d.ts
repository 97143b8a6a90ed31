// the dependency rule's contracts (ARCHITECTURE.md, "Dependency rule"): what the client produces is what trajectory, the recorder
// and VLLMModel consume, checked at the type level through the packages' public entry points
import type { Model } from '@strands-agents/sdk'
import type { VLLMClient } from '@vllm-tito/client'
import type { TokenRecorder } from '@vllm-tito/recorder'
import type { TokenRecord, TokenStreamingClient } from '@vllm-tito/spec'
import type { buildTrajectory, TokenManager, TrajectoryBuilder } from '@vllm-tito/trajectory'
import { describe, expectTypeOf, it } from 'vitest'
import type { VLLMModel, VLLMModelConfig } from './index'

describe('package contracts', () => {
  it('feeds the client output into trajectory', () => {
    type ClientRecords = Awaited<ReturnType<ReturnType<VLLMClient['chat']['stream']>['final']>>
    expectTypeOf<ClientRecords>().toEqualTypeOf<TokenRecord[]>()
    expectTypeOf<ClientRecords>().toExtend<Parameters<typeof buildTrajectory>[0]>()
    expectTypeOf<ClientRecords[number]>().toExtend<Parameters<TrajectoryBuilder['add']>[0]>()
    expectTypeOf<NonNullable<TokenRecord['tokenIds']>>().toExtend<
      Parameters<TokenManager['addResponse']>[0]
    >()
    expectTypeOf<NonNullable<TokenRecord['promptTokenIds']>>().toExtend<
      Parameters<TokenManager['addPrompt']>[0]
    >()
  })

  it('lets VLLMModel consume the client and the agent use the model', () => {
    expectTypeOf<VLLMClient>().toExtend<TokenStreamingClient>()
    expectTypeOf<VLLMModel>().toExtend<Model<VLLMModelConfig>>()
  })

  it('gives the recorder the records the client produced', () => {
    expectTypeOf<TokenRecorder['history']>().toExtend<readonly TokenRecord[]>()
  })
})
