export { agentFirstRequest } from './agent-first-request'
export {
  type AgentFactory,
  type AgentRolloutContext,
  type AgentRolloutOptions,
  agentRollout,
  answerText,
} from './agent-rollout'
export {
  CALCULATOR_SYSTEM_PROMPT,
  calculatorTool,
  containsAnswerReward,
  createCalculatorAgent,
} from './calculator/calculator-agent'
export { ArithmeticError, evaluateArithmetic } from './calculator/evaluate-arithmetic'
export { classifyFailure } from './classify-failure'
export { parseTasks, readTasksFile } from './cli/read-tasks-file'
export { ConcurrencyLimiter } from './concurrency-limiter'
export {
  InvalidTaskError,
  JournalError,
  RolloutTimeoutError,
  RunCancelledError,
  TaskFileError,
} from './errors'
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry-policy'
export type { RolloutEndpoint, RolloutModelClient } from './rollout-model-client'
export type {
  FirstRequestFunction,
  RewardFunction,
  RolloutContext,
  RolloutFailureInfo,
  RolloutFailureKind,
  RolloutFunction,
  RolloutOutcome,
  RolloutOutput,
  RolloutResult,
  RolloutTask,
} from './rollout-types'
export {
  DATA_PARALLEL_RANK_HEADER,
  DEFAULT_ROUTING_HEADER,
  dataParallelRank,
  type RoutingOptions,
  routingHeaders,
} from './routing-headers'
export type { RolloutIds, RunRolloutsOptions } from './run-options'
export { type RolloutRun, runRollouts } from './run-rollouts'
export { type GroupSummary, type RunSummary, summarizeRun } from './run-summary'
export { type RolloutService, startRolloutService } from './service/rollout-service'
export type { RolloutServiceOptions } from './service/service-options'
export { type SingleTurnRolloutOptions, singleTurnRollout } from './single-turn-rollout'
export {
  type FormatRows,
  formatTrainerRows,
  type LeftOutRollout,
  TRAINER_FORMATS,
  type TrainerFormat,
  type TrainerIds,
  type TrainerRows,
  type TrainerRowsOptions,
  tokensTrainedOn,
  toTrainerRollout,
  toTrainerRows,
  trajectoryOptionsFor,
} from './trainer-rows'
