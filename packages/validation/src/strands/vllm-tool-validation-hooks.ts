import {
  BeforeToolCallEvent,
  HookOrder,
  type JSONValue,
  type LocalAgent,
  type Plugin,
  type Tool,
} from '@strands-agents/sdk'
import { OptionReader } from '@vllm-tito/spec'
import { inspectToolInput, type ToolInputInspection } from '../check-tool-input'
import { type CompiledToolSchema, getCompiledToolSchema } from '../compile-tool-schema'
import {
  DEFAULT_MAX_ALLOWED_TOOLS_IN_ERROR,
  formatUnknownToolError,
  UNKNOWN_TOOL_ERROR_OPTION_NAMES,
} from '../format-allowed-tools'
import { InvalidToolSchemaError } from '../invalid-tool-schema-error'
import {
  type ResolvedToolInputCheckOptions,
  readToolInputCheckOptions,
  TOOL_INPUT_CHECK_OPTION_NAMES,
  type ToolInputCheckOptions,
} from '../tool-input-check-options'
import { TOOL_INPUT_PROBLEM_KINDS, type ToolInputProblemKind } from '../tool-input-problem'

/**
 * Options of {@link VLLMToolValidationHooks}: the three of Python `VLLMToolValidationHooks` (camelCased, same
 * defaults) plus the limits of {@link ToolInputCheckOptions}.
 */
export interface VLLMToolValidationHooksOptions extends ToolInputCheckOptions {
  /** Append `| allowed_tools=[...]` to the unknown-tool error. Default `true`. */
  includeAllowedToolsInErrors?: boolean
  /** How many tool names the unknown-tool error lists before `, ... (+N more)`. Default `25`. */
  maxAllowedToolsInError?: number
  /** Check the input of known tools (JSON, object, required, unknown, schema). `false` checks only the tool name. Default `true`. */
  validateInputShape?: boolean
}

/** A call's problem category: a {@link ToolInputProblemKind}, or `unknown-tool`. */
export type ToolCallProblemKind = ToolInputProblemKind | 'unknown-tool'

/** How often calls naming one tool were rejected, for reward shaping and metrics. */
export interface ToolCallProblemCounts {
  /** Calls naming this tool while no tool of that name was registered. */
  readonly unknown: number
  /** Calls to this registered tool whose input was rejected. */
  readonly invalid: number
  /** Rejected calls by category; every category is present (zero when it never happened). */
  readonly byKind: Readonly<Record<ToolCallProblemKind, number>>
}

type MutableCounts = { unknown: number; invalid: number; byKind: Record<ToolCallProblemKind, number> }

function emptyCounts(): MutableCounts {
  const byKind = { 'unknown-tool': 0 } as Record<ToolCallProblemKind, number>
  for (const kind of TOOL_INPUT_PROBLEM_KINDS) byKind[kind] = 0
  return { unknown: 0, invalid: 0, byKind }
}

function snapshot(counts: MutableCounts): ToolCallProblemCounts {
  return Object.freeze({
    unknown: counts.unknown,
    invalid: counts.invalid,
    byKind: Object.freeze({ ...counts.byKind }),
  })
}

/** The effective schema of a tool: Strands keeps plain JSON Schema (zod tools: the converted schema). */
function schemaOf(tool: Tool): object | undefined {
  return tool.toolSpec.inputSchema
}

/**
 * The Strands plugin of Python `strands-vllm`'s `VLLMToolValidationHooks`: before every tool call it answers
 * calls to unknown tools with `Error: unknown tool: <name> | allowed_tools=[...]` and calls with bad input
 * with `strands-vllm`'s texts (plus full JSON-Schema checks with ajv), by setting `BeforeToolCallEvent.cancel`, so
 * the model sees exactly that text as an error tool result and the tool never runs.
 *
 * Every registered tool's schema is compiled when the plugin is initialised (the agent's first invoke); a
 * schema that does not compile fails that invoke with an {@link InvalidToolSchemaError} naming the tool.
 *
 * @example
 * const validation = new VLLMToolValidationHooks({ maxAllowedToolsInError: 10 })
 * const agent = new Agent({ model, tools, plugins: [validation] })
 * await agent.invoke('...')
 * validation.counts.get('calculator') // { unknown: 0, invalid: 1, byKind: { 'missing-arguments': 1, ... } }
 */
export class VLLMToolValidationHooks implements Plugin {
  /** The plugin name; Strands rejects a second plugin of the same name on one agent. */
  readonly name = 'vllm-tito:tool-validation'
  readonly #includeAllowedToolsInErrors: boolean
  readonly #maxAllowedToolsInError: number
  readonly #validateInputShape: boolean
  readonly #checkOptions: ResolvedToolInputCheckOptions
  readonly #counts = new Map<string, MutableCounts>()
  readonly #schemaProblems = new Map<string, InvalidToolSchemaError>()

  /** @throws {InvalidOptionError} (from `@vllm-tito/spec`) for an out-of-range or misspelt option */
  constructor(options: VLLMToolValidationHooksOptions = {}) {
    const read = new OptionReader('new VLLMToolValidationHooks', options).rejectUnknown([
      ...UNKNOWN_TOOL_ERROR_OPTION_NAMES,
      'validateInputShape',
      ...TOOL_INPUT_CHECK_OPTION_NAMES,
    ])
    this.#includeAllowedToolsInErrors = read.boolean('includeAllowedToolsInErrors') ?? true
    this.#maxAllowedToolsInError =
      read.integer('maxAllowedToolsInError') ?? DEFAULT_MAX_ALLOWED_TOOLS_IN_ERROR
    this.#validateInputShape = read.boolean('validateInputShape') ?? true
    this.#checkOptions = readToolInputCheckOptions(read)
  }

  /**
   * Compiles the schemas of the agent's registered tools and registers the `BeforeToolCallEvent` hook, ahead
   * of other hooks (`HookOrder.SDK_FIRST`) so later hooks see the cancellation.
   *
   * @throws {InvalidToolSchemaError} naming the first registered tool whose schema does not compile
   */
  initAgent(agent: LocalAgent): void {
    if (this.#validateInputShape) {
      for (const tool of agent.toolRegistry.list()) {
        const schema = schemaOf(tool)
        if (schema !== undefined) getCompiledToolSchema(tool.name, schema, this.#compileOptions())
      }
    }
    agent.addHook(BeforeToolCallEvent, (event) => this.#beforeToolCall(event), { order: HookOrder.SDK_FIRST })
  }

  /** Per tool name: how many of its calls were rejected and why. A snapshot; later calls do not change it. */
  get counts(): ReadonlyMap<string, ToolCallProblemCounts> {
    return new Map([...this.#counts].map(([toolName, counts]) => [toolName, snapshot(counts)]))
  }

  /** The sums of {@link counts} over all tool names. */
  get totals(): ToolCallProblemCounts {
    const totals = emptyCounts()
    for (const counts of this.#counts.values()) {
      totals.unknown += counts.unknown
      totals.invalid += counts.invalid
      for (const kind of Object.keys(totals.byKind) as ToolCallProblemKind[])
        totals.byKind[kind] += counts.byKind[kind]
    }
    return snapshot(totals)
  }

  /**
   * Tools registered after initialisation whose schema did not compile, by name. Their calls are checked with
   * `strands-vllm`'s checks only (JSON, object, required, unknown), since throwing inside the agent loop would end
   * the rollout for a mistake the model did not make.
   */
  get schemaProblems(): ReadonlyMap<string, InvalidToolSchemaError> {
    return new Map(this.#schemaProblems)
  }

  /** Sets every counter back to zero (e.g. between rollouts). */
  resetCounts(): void {
    this.#counts.clear()
  }

  #compileOptions() {
    return { fullSchemaValidation: this.#checkOptions.fullSchemaValidation }
  }

  #count(toolName: string, kind: ToolCallProblemKind): void {
    // a Map, not an object: a model may call a tool named `__proto__`
    let counts = this.#counts.get(toolName)
    if (counts === undefined) {
      counts = emptyCounts()
      this.#counts.set(toolName, counts)
    }
    if (kind === 'unknown-tool') counts.unknown += 1
    else counts.invalid += 1
    counts.byKind[kind] += 1
  }

  #beforeToolCall(event: BeforeToolCallEvent): void {
    if (event.cancel) return // an earlier hook already decided
    const toolName = event.toolUse.name
    const tool = event.selectedTool ?? event.tool
    if (tool === undefined) {
      const allowedToolNames = event.agent.toolRegistry.list().map((registered) => registered.name)
      event.cancel = formatUnknownToolError(toolName, allowedToolNames, {
        includeAllowedToolsInErrors: this.#includeAllowedToolsInErrors,
        maxAllowedToolsInError: this.#maxAllowedToolsInError,
      })
      this.#count(toolName, 'unknown-tool')
      return
    }
    if (!this.#validateInputShape) return
    const inspection = this.#inspect(toolName, tool, event.toolUse.input)
    if (inspection.problem !== null) {
      event.cancel = inspection.problem.message
      this.#count(toolName, inspection.problem.kind)
    } else if (inspection.input !== event.toolUse.input) {
      // the model sent the arguments as a JSON string: hand the tool the parsed object, as its schema expects
      event.toolUse = { ...event.toolUse, input: inspection.input as JSONValue }
    }
  }

  #inspect(toolName: string, tool: Tool, input: unknown): ToolInputInspection {
    const schema = schemaOf(tool)
    return inspectToolInput(
      toolName,
      input,
      schema === undefined ? null : this.#compiled(toolName, schema),
      this.#checkOptions,
    )
  }

  /** The cached compiled schema; for a late tool whose schema fails, the top-level-only form (or none). */
  #compiled(toolName: string, schema: object): CompiledToolSchema | null {
    try {
      return getCompiledToolSchema(toolName, schema, this.#compileOptions())
    } catch (error) {
      if (!InvalidToolSchemaError.isInstance(error)) throw error
      this.#schemaProblems.set(toolName, error)
    }
    try {
      return getCompiledToolSchema(toolName, schema, { fullSchemaValidation: false })
    } catch (error) {
      if (!InvalidToolSchemaError.isInstance(error)) throw error
      return null
    }
  }
}
