import type { JSONSchema, Plugin } from '@strands-agents/sdk'
import { expectTypeOf, test } from 'vitest'
import {
  checkToolInput,
  createToolInputValidator,
  formatAllowedTools,
  formatUnknownToolError,
  type INVALID_JSON_ARGUMENTS_KEY,
  type ToolInputProblem,
  type ToolInputProblemKind,
  type ToolInputSchema,
  validateToolInput,
} from './index'
import type { ToolCallProblemCounts, VLLMToolValidationHooks } from './strands/index'

test('the core API has the documented signatures', () => {
  expectTypeOf(validateToolInput).returns.toEqualTypeOf<string | null>()
  expectTypeOf(checkToolInput).returns.toEqualTypeOf<ToolInputProblem | null>()
  expectTypeOf(createToolInputValidator).returns.toEqualTypeOf<(input: unknown) => ToolInputProblem | null>()
  expectTypeOf(formatAllowedTools).returns.toEqualTypeOf<string>()
  expectTypeOf(formatUnknownToolError).returns.toEqualTypeOf<string>()
  expectTypeOf<typeof INVALID_JSON_ARGUMENTS_KEY>().toEqualTypeOf<'__vllm_invalid_json_arguments__'>()
  expectTypeOf<ToolInputProblem['kind']>().toEqualTypeOf<ToolInputProblemKind>()
})

test('a Strands tool schema is a ToolInputSchema and the hooks are a Strands Plugin', () => {
  expectTypeOf<JSONSchema>().toExtend<ToolInputSchema>()
  expectTypeOf<VLLMToolValidationHooks>().toExtend<Plugin>()
  expectTypeOf<VLLMToolValidationHooks['counts']>().toEqualTypeOf<
    ReadonlyMap<string, ToolCallProblemCounts>
  >()
})
