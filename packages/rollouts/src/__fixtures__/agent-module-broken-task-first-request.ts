// the same agent module with its firstRequest: the broken task's rollout still gets its prompt ids
import { agentFirstRequest } from '../agent-first-request'
import { createCalculatorAgent } from '../calculator/calculator-agent'

export { createAgent } from './agent-module-broken-task'
export const firstRequest = agentFirstRequest(createCalculatorAgent)
