import type { TextTokenizer, TokenRecord } from '@vllm-tito/spec'
import { describe, expectTypeOf, it } from 'vitest'
import {
  type AgentLightningTriplet,
  buildTrajectory,
  checkRetokenization,
  type PrefixBreakKind,
  type Rollout,
  type SkyRLGeneratorOutput,
  type SlimeSample,
  type Token,
  type TokenManager,
  type TrainingSequence,
  type Trajectory,
  type TrajectoryBuilder,
  toAgentLightningTriplets,
  toSkyRLGeneratorOutput,
  toSlimeSamples,
  toVerlRows,
  type VerlRow,
} from './index'

describe('public types', () => {
  it('consumes spec TokenRecords and tokenizers', () => {
    expectTypeOf(buildTrajectory).parameter(0).toEqualTypeOf<Iterable<TokenRecord>>()
    expectTypeOf(buildTrajectory).returns.toEqualTypeOf<Trajectory>()
    expectTypeOf<TrajectoryBuilder['add']>().parameter(0).toEqualTypeOf<TokenRecord>()
    expectTypeOf(checkRetokenization).parameter(1).toEqualTypeOf<TextTokenizer>()
    expectTypeOf<TextTokenizer>().toMatchTypeOf<
      NonNullable<Parameters<typeof buildTrajectory>[1]>['tokenizer']
    >()
  })

  it('TokenManager mirrors the Python names in TypeScript casing', () => {
    expectTypeOf<TokenManager['tokenIds']>().toEqualTypeOf<readonly number[]>()
    expectTypeOf<TokenManager['lossMask']>().toEqualTypeOf<readonly (0 | 1)[]>()
    expectTypeOf<TokenManager['logprobs']>().toEqualTypeOf<readonly (number | null)[]>()
    expectTypeOf<TokenManager['segmentInfo']>().toEqualTypeOf<Array<[isOutput: boolean, length: number]>>()
    expectTypeOf<TokenManager['length']>().toEqualTypeOf<number>()
    expectTypeOf<Token>().toEqualTypeOf<{ tokenId: number; logprob: number | null; lossMask: 0 | 1 }>()
  })

  it('exports trainer rows from rollouts', () => {
    expectTypeOf(toVerlRows).parameter(0).toEqualTypeOf<readonly Rollout[]>()
    expectTypeOf(toVerlRows).returns.toEqualTypeOf<VerlRow[]>()
    expectTypeOf(toSkyRLGeneratorOutput).returns.toEqualTypeOf<SkyRLGeneratorOutput>()
    expectTypeOf(toSlimeSamples).returns.toEqualTypeOf<SlimeSample[]>()
    expectTypeOf(toAgentLightningTriplets).returns.toEqualTypeOf<AgentLightningTriplet[]>()
    expectTypeOf<VerlRow['response_logprobs']>().toEqualTypeOf<number[] | null>()
    expectTypeOf<SkyRLGeneratorOutput['rewards']>().toEqualTypeOf<number[] | number[][]>()
    expectTypeOf<AgentLightningTriplet['response']>().toEqualTypeOf<{
      token_ids: number[]
      log_probs: number[] | null
    }>()
    expectTypeOf<Rollout['taskId']>().toEqualTypeOf<string | number>()
    expectTypeOf<AgentLightningTriplet['prompt']>().toEqualTypeOf<{ token_ids: number[] }>()
    expectTypeOf<TrainingSequence['lossMask']>().toEqualTypeOf<Array<0 | 1>>()
    expectTypeOf<PrefixBreakKind>().toEqualTypeOf<'template' | 'retokenization' | 'other'>()
  })
})
