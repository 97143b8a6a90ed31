import { Agent, NullConversationManager, tool } from '@strands-agents/sdk'
import { VLLMToolValidationHooks } from '@vllm-tito/strands'
import type { AgentRolloutContext } from '../agent-rollout'
import type { RewardFunction } from '../rollout-types'
import { evaluateArithmetic } from './evaluate-arithmetic'

/** The system prompt of the calculator agent. */
export const CALCULATOR_SYSTEM_PROMPT =
  'You are a careful assistant. Use the calculator tool for every arithmetic step, then state the final result.'

/** The calculator tool: evaluates one arithmetic expression (`evaluateArithmetic`, no `eval`). */
export const calculatorTool = tool({
  name: 'calculator',
  description: 'Evaluate an arithmetic expression, e.g. "17 * 23".',
  inputSchema: {
    type: 'object',
    properties: { expression: { type: 'string', description: 'The arithmetic expression to evaluate.' } },
    required: ['expression'],
    additionalProperties: false,
  },
  callback: (input) => String(evaluateArithmetic((input as { expression: string }).expression)),
})

/**
 * The default agent of `vllm-tito rollouts`: a Strands agent with the calculator tool and strict tool-call
 * validation, set up for RL (no printer, no conversation trimming, no SDK retries — the runner retries).
 */
export function createCalculatorAgent(context: AgentRolloutContext): Agent {
  return new Agent({
    model: context.model,
    systemPrompt: CALCULATOR_SYSTEM_PROMPT,
    tools: [calculatorTool],
    plugins: [context.recorder, new VLLMToolValidationHooks()],
    printer: false,
    conversationManager: new NullConversationManager(),
    retryStrategy: null,
  })
}

/**
 * The default reward: 1 when the answer contains the task's `answer` (as text), 0 otherwise — also for a failed
 * rollout or one without an answer. `null` (let the trainer score it) for a task without an `answer`.
 */
export const containsAnswerReward: RewardFunction = (task, outcome) => {
  if (task.answer === undefined || task.answer === null) return null
  const expected = typeof task.answer === 'string' ? task.answer : JSON.stringify(task.answer)
  return outcome.answer?.includes(expected) ? 1 : 0
}
