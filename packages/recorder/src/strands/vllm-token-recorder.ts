import type { AgentStreamEvent, LocalAgent, Plugin } from '@strands-agents/sdk'
import { OptionReader } from '@vllm-tito/spec'
import { createOtelSpanWriter, type OtelSpanWriterOptions } from '../otel/otel-span-writer'
import { TokenRecorder } from '../token-recorder'
import { TOKEN_RECORDER_OPTION_NAMES, type TokenRecorderOptions } from '../token-recorder-options'
import { attachRecorderToAgent, STRANDS_RECORDER_PLUGIN_NAME } from './create-strands-recorder-plugin'
import { extractStrandsMessageStop } from './extract-strands-message-stop'

/** Options of the Strands {@link VLLMTokenRecorder}: the core options (but the extractor) plus the plugin's. */
export interface VLLMTokenRecorderOptions
  extends Omit<TokenRecorderOptions<AgentStreamEvent>, 'extractMessageStop'> {
  /** Plugin name, unique per agent. Default `vllm-tito:token-recorder`. */
  pluginName?: string
  /** Options of the default OpenTelemetry span writer (used when no `spanWriter` is given). */
  otel?: OtelSpanWriterOptions
}

/**
 * The recorder for Strands agents (the TypeScript `VLLMTokenRecorder` of `strands-vllm`): the core
 * `TokenRecorder` with the Strands event extractor, and a Strands {@link Plugin}, so
 * `new Agent({ plugins: [recorder] })` records every model call, and `recorder.handle` / `recorder.callback`
 * take `agent.stream()` events.
 *
 * As `strands-vllm` with `add_to_span=True`: unless `addToSpan: false` or a `spanWriter` is given, it writes
 * spans with `createOtelSpanWriter(options.otel)` (one `openai.chat.completion` span per call through the
 * global OpenTelemetry API, which the Strands SDK always installs; without a registered provider nothing is
 * written).
 *
 * @throws InvalidOptionError (from `@vllm-tito/spec`) naming the option, for a bad or misspelt option.
 */
export class VLLMTokenRecorder extends TokenRecorder<AgentStreamEvent> implements Plugin {
  /** The plugin name (see {@link VLLMTokenRecorderOptions.pluginName}). */
  readonly name: string

  constructor(options: VLLMTokenRecorderOptions = {}) {
    super(toCoreOptions(options))
    this.name = options.pluginName ?? STRANDS_RECORDER_PLUGIN_NAME
  }

  /** Strands calls this once per agent, on its first invocation; registers the recording hook. */
  initAgent(agent: LocalAgent): void {
    attachRecorderToAgent(this, agent)
  }
}

/** The core recorder's options: the Strands extractor, and the OpenTelemetry span writer by default. */
function toCoreOptions(options: VLLMTokenRecorderOptions): TokenRecorderOptions<AgentStreamEvent> {
  const known = [
    ...TOKEN_RECORDER_OPTION_NAMES.filter((name) => name !== 'extractMessageStop'),
    'pluginName',
    'otel',
  ]
  const read = new OptionReader('new VLLMTokenRecorder', options).rejectUnknown(known)
  read.string('pluginName', { nonEmpty: true })
  const otel = read.object('otel') as OtelSpanWriterOptions | undefined
  const { pluginName: _pluginName, otel: _otel, ...core } = options
  const spanWriter = core.spanWriter ?? (core.addToSpan === false ? undefined : createOtelSpanWriter(otel))
  return { ...core, spanWriter, extractMessageStop: extractStrandsMessageStop }
}
