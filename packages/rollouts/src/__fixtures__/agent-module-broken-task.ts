// an --agent module whose agent cannot be built for the task `broken` (before any model call), and no firstRequest
import type { Agent } from '@strands-agents/sdk'
import type { AgentRolloutContext } from '../agent-rollout'
import { createCalculatorAgent } from '../calculator/calculator-agent'

export function createAgent(context: AgentRolloutContext): Agent {
  if (context.task.id === 'broken') throw new Error('no agent for this task')
  return createCalculatorAgent(context)
}
