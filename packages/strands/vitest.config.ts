import { defineProject } from 'vitest/config'
import { sharedTestConfig } from '../../vitest.shared'

export default defineProject(sharedTestConfig('strands'))
