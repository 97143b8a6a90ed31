// an --agent module whose firstRequest is not a function
export { createAgent } from './agent-module-create-agent'
export const firstRequest = 'the system prompt'
