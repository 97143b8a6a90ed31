export {
  AgentLightningEnvironmentError,
  type EnvironmentProblem,
  EventPostError,
  type EventPostErrorOptions,
  InvalidEventError,
  RewardAlreadyEmittedError,
} from './agent-lightning-errors'
export { type AgentLightningOptions, agentLightningFromEnv } from './agent-lightning-from-env'
export { AgentLightningRollout, type RewardDetails, type RewardState } from './agent-lightning-rollout'
export type { AgentLightningEvent, EventRetry } from './post-event'
export {
  type AgentLightningEnvironment,
  type AgentLightningMode,
  readAgentLightningEnv,
} from './read-agent-lightning-env'
