export {
  AGENT_LIGHTNING_TRACER_NAME,
  emitRewardSpan,
  type RewardSpanOptions,
  rewardSpanAttributes,
} from './emit-reward-span'
export {
  AGL_ANNOTATION_SPAN_NAME,
  ATTEMPT_ID_ATTRIBUTE,
  findAgentLightningAttributeProblems,
  PRIMARY_REWARD_NAME,
  REWARD_ATTRIBUTE_PREFIX,
  ROLLOUT_ID_ATTRIBUTE,
  TOKEN_ID_ATTRIBUTES,
  UNFLATTENED_PREFIXES,
} from './span-contract'
export {
  agentLightningResourceAttributes,
  createStoreSpanExporter,
  type RolloutAttemptIds,
  type StoreSpanExporterOptions,
} from './store-span-exporter'
