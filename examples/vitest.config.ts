import { defineProject } from 'vitest/config'
import { sharedTestConfig } from '../vitest.shared.ts'

const shared = sharedTestConfig('examples')
// examples run as child processes (each loads the tokenizer and the SDK), so give them room
export default defineProject({ ...shared, test: { ...shared.test, testTimeout: 120_000 } })
