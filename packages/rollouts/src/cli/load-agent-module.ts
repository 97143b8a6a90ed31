import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { InvalidOptionError } from '@vllm-tito/spec'
import { agentFirstRequest } from '../agent-first-request'
import { type AgentFactory, agentRollout } from '../agent-rollout'
import { containsAnswerReward, createCalculatorAgent } from '../calculator/calculator-agent'
import type { FirstRequestFunction, RewardFunction, RolloutFunction } from '../rollout-types'

/** What `--agent <module>` gives the runner. */
export interface LoadedAgent {
  /** The rollout function (an agent module's `createAgent` runs through `agentRollout`). */
  rollout: RolloutFunction
  /** The module's `reward`, or the default `containsAnswerReward`. */
  reward: RewardFunction
  /**
   * The first request of a rollout, for the prompt ids of one that fails before its first model call: the
   * calculator agent's own, a module's `firstRequest` export, else none.
   */
  firstRequest: FirstRequestFunction | undefined
  /** One line naming the agent, for the run's header. */
  description: string
}

/**
 * Loads the agent of a run. Without a module: the calculator agent, rewarded by `containsAnswerReward`. A module
 * (JavaScript, or TypeScript when the CLI runs under tsx or a Node that strips types) exports:
 *
 * - `createAgent(context)` — an `AgentFactory` returning a Strands `Agent` built with `context.model` and
 *   `context.recorder` (also accepted as the `default` export), or
 * - `rollout(context)` — a `RolloutFunction` that calls the model through `context.client`;
 * - optionally `reward(task, outcome)` — a `RewardFunction` (default: 1 when the answer contains `answer`);
 * - optionally `firstRequest(context)` — a `FirstRequestFunction` (e.g. `agentFirstRequest(createAgent)`), so a
 *   rollout that fails before its first model call still gets its prompt ids and a trainer row.
 *
 * @throws InvalidOptionError (`--agent`) when the module cannot be imported or exports neither, or both.
 */
export async function loadAgentModule(path: string | undefined, where: string): Promise<LoadedAgent> {
  if (path === undefined) {
    return {
      rollout: agentRollout(createCalculatorAgent),
      reward: containsAnswerReward,
      firstRequest: agentFirstRequest(createCalculatorAgent),
      description: 'the calculator agent',
    }
  }
  let module: Record<string, unknown>
  try {
    module = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>
  } catch (error) {
    throw new InvalidOptionError(where, '--agent', `cannot import ${path}: ${(error as Error).message}`)
  }
  const createAgent = module.createAgent ?? module.default
  const rollout = module.rollout
  if (typeof createAgent === 'function' && typeof rollout === 'function') {
    throw new InvalidOptionError(
      where,
      '--agent',
      `${path} exports both createAgent and rollout; export one of them`,
    )
  }
  if (module.reward !== undefined && typeof module.reward !== 'function') {
    throw new InvalidOptionError(where, '--agent', `${path} exports a \`reward\` that is not a function`)
  }
  if (module.firstRequest !== undefined && typeof module.firstRequest !== 'function') {
    throw new InvalidOptionError(
      where,
      '--agent',
      `${path} exports a \`firstRequest\` that is not a function`,
    )
  }
  const reward = (module.reward as RewardFunction | undefined) ?? containsAnswerReward
  const firstRequest = module.firstRequest as FirstRequestFunction | undefined
  if (typeof rollout === 'function') {
    return { rollout: rollout as RolloutFunction, reward, firstRequest, description: `${path} (rollout)` }
  }
  if (typeof createAgent === 'function') {
    return {
      rollout: agentRollout(createAgent as AgentFactory),
      reward,
      firstRequest,
      description: `${path} (createAgent)`,
    }
  }
  throw new InvalidOptionError(
    where,
    '--agent',
    `${path} exports neither createAgent(context) (a Strands agent factory) nor rollout(context) (a rollout function)`,
  )
}
