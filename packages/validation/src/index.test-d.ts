import type { JSONSchema, Plugin } from '@strands-agents/sdk'
import { expectTypeOf, test } from 'vitest'
import {
  checkToolInput,
  createToolInputValidator,
  formatAllowedTools,
  formatUnknownToolError,
  type ToolInputProblem,
  type ToolInputProblemKind,
  type ToolInputSchema,
} from './index'
import type { ToolCallProblemCounts, VLLMToolValidationHooks } from './strands/index'

test('the core API has the documented signatures', () => {
  expectTypeOf(checkToolInput).returns.toEqualTypeOf<ToolInputProblem | null>()
  expectTypeOf(createToolInputValidator).returns.toEqualTypeOf<(input: unknown) => ToolInputProblem | null>()
  expectTypeOf(formatAllowedTools).returns.toEqualTypeOf<string>()
  expectTypeOf(formatUnknownToolError).returns.toEqualTypeOf<string>()
  expectTypeOf<ToolInputProblem['kind']>().toEqualTypeOf<ToolInputProblemKind>()
})

test('a Strands tool schema is a ToolInputSchema and the hooks are a Strands Plugin', () => {
  expectTypeOf<JSONSchema>().toExtend<ToolInputSchema>()
  expectTypeOf<VLLMToolValidationHooks>().toExtend<Plugin>()
  expectTypeOf<VLLMToolValidationHooks['counts']>().toEqualTypeOf<
    ReadonlyMap<string, ToolCallProblemCounts>
  >()
})
