import type { AgentStreamEvent, LocalAgent, Plugin } from '@strands-agents/sdk'
import { createOtelSpanWriter, type OtelSpanWriterOptions } from '../otel/otel-span-writer'
import {
  VLLMTokenRecorder as CoreTokenRecorder,
  type VLLMTokenRecorderOptions as CoreTokenRecorderOptions,
} from '../vllm-token-recorder'
import { attachRecorderToAgent, STRANDS_RECORDER_PLUGIN_NAME } from './create-strands-recorder-plugin'

/** Options of the Strands {@link VLLMTokenRecorder}: the core options plus the plugin's. */
export interface VLLMTokenRecorderOptions extends CoreTokenRecorderOptions<AgentStreamEvent> {
  /** Plugin name, unique per agent. Default `vllm-tito:token-recorder`. */
  pluginName?: string
  /** Options of the default OpenTelemetry span writer (used when no `spanWriter` is given). */
  otel?: OtelSpanWriterOptions
}

/**
 * The recorder for Strands agents: the core `VLLMTokenRecorder` that is also a Strands {@link Plugin}, so
 * `new Agent({ plugins: [recorder] })` records every model call, and `recorder.handle` / `recorder.callback`
 * take `agent.stream()` events.
 *
 * Seed parity for `add_to_span=True`: unless `addToSpan: false` or a `spanWriter` is given, it writes spans
 * with `createOtelSpanWriter(options.otel)` (one `openai.chat.completion` span per call through the global
 * OpenTelemetry API, which the Strands SDK always installs; without a registered provider nothing is written).
 */
export class VLLMTokenRecorder extends CoreTokenRecorder<AgentStreamEvent> implements Plugin {
  /** The plugin name (see {@link VLLMTokenRecorderOptions.pluginName}). */
  readonly name: string

  constructor(options: VLLMTokenRecorderOptions = {}) {
    const { pluginName, otel, ...coreOptions } = options
    const spanWriter =
      coreOptions.spanWriter ?? (coreOptions.addToSpan === false ? undefined : createOtelSpanWriter(otel))
    super(spanWriter === undefined ? coreOptions : { ...coreOptions, spanWriter })
    this.name = pluginName ?? STRANDS_RECORDER_PLUGIN_NAME
  }

  /** Strands calls this once per agent, on its first invocation; registers the recording hook. */
  initAgent(agent: LocalAgent): void {
    attachRecorderToAgent(this, agent)
  }
}
