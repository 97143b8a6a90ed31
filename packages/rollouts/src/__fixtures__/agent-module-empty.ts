// an --agent module that exports neither contract
export const name = 'not an agent'
