export type {
  ModelServer,
  Rollout,
  RolloutConfig,
  RolloutState,
  RolloutStatus,
  StoredEvent,
} from './gateway-schemas'
export type {
  AgentEnvironment,
  GatewayRequestLog,
  MockAgentLightningOptions,
  MockAgentLightningServer,
} from './mock-agent-lightning-options'
export { startMockAgentLightning } from './start-mock-agent-lightning'
