// an --agent module with a Strands agent factory and its own reward (the answer's length, to tell it apart)
import { Agent, NullConversationManager } from '@strands-agents/sdk'
import type { AgentRolloutContext } from '../agent-rollout'
import type { RewardFunction } from '../rollout-types'

export function createAgent(context: AgentRolloutContext): Agent {
  return new Agent({
    model: context.model,
    plugins: [context.recorder],
    printer: false,
    conversationManager: new NullConversationManager(),
    retryStrategy: null,
  })
}

export const reward: RewardFunction = (_task, outcome) => outcome.answer?.length ?? 0
