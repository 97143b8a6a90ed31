export { checkRetokenization, type RetokenizationCheck } from './check-retokenization'
export {
  type ClassifyPrefixBreakOptions,
  classifyPrefixBreak,
  type PrefixBreak,
  type PrefixBreakClassification,
  type PrefixBreakKind,
  QWEN3_SPECIAL_TOKEN_IDS,
  specialTokenSkeleton,
} from './classify-prefix-break'
export {
  DuplicateResponseError,
  InexactSequenceError,
  LogprobLengthError,
  PrefixBreakError,
  TokenInputError,
  UnverifiedRecordError,
} from './errors'
export { findDriftIndex, startsWithIds } from './find-drift-index'
export {
  type Token,
  TokenManager,
  type TokenManagerOptions,
  type TokenManagerSnapshot,
  type TokenSegment,
} from './token-manager'
export {
  type AgentLightningTriplet,
  type InexactHandling,
  type SkyRLRow,
  type SlimeSample,
  type SlimeStatus,
  type TrainerExportOptions,
  toAgentLightningTriplets,
  toJsonl,
  toSkyRLRows,
  toSlimeSamples,
  toVerlRows,
  type VerlRow,
} from './trainer-exports'
export {
  type BreakPolicy,
  buildTrajectory,
  type ExcludedTurn,
  type SequenceTurn,
  type TrainingSequence,
  type Trajectory,
  TrajectoryBuilder,
  type TrajectoryMetrics,
  type TrajectoryOptions,
  type TurnJoin,
  type TurnOutcome,
  type UnverifiedPolicy,
} from './trajectory-builder'
