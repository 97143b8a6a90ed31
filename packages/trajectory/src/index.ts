export {
  type AgentLightningExportOptions,
  type AgentLightningTriplet,
  type AgentLightningTripletInfo,
  toAgentLightningTriplets,
} from './agent-lightning-triplets'
export { checkRetokenization, type RetokenizationCheck } from './check-retokenization'
export {
  type ClassifyPrefixBreakOptions,
  classifyPrefixBreak,
  type PrefixBreak,
  type PrefixBreakClassification,
  type PrefixBreakKind,
  QWEN3_SPECIAL_TOKEN_IDS,
} from './classify-prefix-break'
export {
  DuplicateResponseError,
  InexactSequenceError,
  LogprobLengthError,
  PrefixBreakError,
  TokenInputError,
  type TrainerName,
  TrainerRowError,
  type TrainerRule,
  UnverifiedRecordError,
} from './errors'
export { findDriftIndex } from './find-drift-index'
export type { Rollout, RolloutFailure, RolloutFailureSource } from './rollout'
export type {
  InexactHandling,
  MixedLogprobsHandling,
  RewardPlacement,
  SequenceStatus,
} from './sequence-rows'
export {
  type SkyRLExportOptions,
  type SkyRLGeneratorOutput,
  type SkyRLTrajectoryId,
  toSkyRLGeneratorOutput,
} from './skyrl-generator-output'
export {
  type SlimeExportOptions,
  type SlimeSample,
  type SlimeSampleInfo,
  type SlimeStatus,
  toSlimeSamples,
} from './slime-samples'
export { toJsonl } from './to-jsonl'
export {
  type Token,
  TokenManager,
  type TokenManagerOptions,
  type TokenManagerSnapshot,
  type TokenSegment,
} from './token-manager'
export { buildTrajectory, TrajectoryBuilder } from './trajectory-builder'
export type {
  BreakPolicy,
  ExcludedTurn,
  SequenceTurn,
  TrainingSequence,
  Trajectory,
  TrajectoryMetrics,
  TrajectoryOptions,
  TurnJoin,
  TurnOutcome,
  UnverifiedPolicy,
} from './trajectory-types'
export {
  toVerlRows,
  type VerlAgentLoopMetrics,
  type VerlExportOptions,
  type VerlRow,
  type VerlRowInfo,
  type VerlSplitRolloutHandling,
} from './verl-rows'
