// an --agent module with a rollout function and no reward (the default reward applies)
import { singleTurnRollout } from '../single-turn-rollout'

export const rollout = singleTurnRollout({ systemPrompt: 'Answer briefly.' })
