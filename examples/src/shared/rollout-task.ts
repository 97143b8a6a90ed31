/**
 * The task of one Agent Lightning rollout as the agent process receives it: variables the controller renders
 * from the rollout's `input` (local mode: `config.local.env_map`; Kubernetes mode: the Job template).
 */
export interface RolloutTask {
  /** `QUESTION`: what the agent is asked. */
  question: string
  /** The expected answer: `ANSWER`, or `RESULT` (the name Agent Lightning's calc_x example uses). */
  answer: string
}

/** A task variable is missing or empty; `problems` names each. */
export class RolloutTaskError extends Error {
  override readonly name = 'RolloutTaskError'
  /** One sentence per problem. */
  readonly problems: string[]

  constructor(problems: string[]) {
    super(problems.join('; '))
    this.problems = problems
  }
}

/**
 * Reads `QUESTION` and `ANSWER` (or, when `ANSWER` is unset, `RESULT`, as calc_x's `env_map` and Job template
 * name it). Surrounding whitespace is removed.
 *
 * @throws RolloutTaskError naming every variable that is missing or empty.
 */
export function readRolloutTask(environment: Record<string, string | undefined>): RolloutTask {
  const problems: string[] = []
  const question = environment.QUESTION?.trim() ?? ''
  if (question === '')
    problems.push(describeMissing('QUESTION', environment.QUESTION, 'the question to answer'))
  const answerVariable =
    environment.ANSWER === undefined && environment.RESULT !== undefined ? 'RESULT' : 'ANSWER'
  const answer = environment[answerVariable]?.trim() ?? ''
  if (answer === '') {
    const meaning = 'the expected answer; RESULT is read when ANSWER is not set'
    problems.push(describeMissing(answerVariable, environment[answerVariable], meaning))
  }
  if (problems.length > 0) throw new RolloutTaskError(problems)
  return { question, answer }
}

/** The reward of a rollout: 1 when the final answer contains the expected one, else 0. */
export function rewardFor(finalAnswer: string, expected: string): 0 | 1 {
  return finalAnswer.includes(expected) ? 1 : 0
}

function describeMissing(name: string, value: string | undefined, meaning: string): string {
  return `${name}: is ${value === undefined ? 'not set' : 'empty'} (${meaning})`
}
