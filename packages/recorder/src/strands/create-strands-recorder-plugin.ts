import {
  AfterInvocationEvent,
  AfterModelCallEvent,
  AfterToolCallEvent,
  AfterToolsEvent,
  AgentResultEvent,
  type AgentStreamEvent,
  BeforeInvocationEvent,
  BeforeModelCallEvent,
  BeforeToolCallEvent,
  BeforeToolsEvent,
  ContentBlockEvent,
  type HookableEventConstructor,
  HookOrder,
  InterruptEvent,
  type LocalAgent,
  MessageAddedEvent,
  ModelMessageEvent,
  ModelStreamUpdateEvent,
  type Plugin,
  ToolResultEvent,
  ToolStreamUpdateEvent,
} from '@strands-agents/sdk'
import { InvalidOptionError, OptionReader } from '@vllm-tito/spec'
import type { TokenRecorder } from '../token-recorder'

/** The default plugin name. Strands rejects two plugins of the same name on one agent. */
export const STRANDS_RECORDER_PLUGIN_NAME = 'vllm-tito:token-recorder'

// every class of the SDK's AgentStreamEvent union: with an `inner` callback the plugin forwards all of them,
// so `inner` sees what an `agent.stream()` consumer would see, in the same order
const AGENT_STREAM_EVENT_CLASSES: ReadonlyArray<HookableEventConstructor<AgentStreamEvent>> = [
  ModelStreamUpdateEvent,
  ContentBlockEvent,
  ModelMessageEvent,
  ToolStreamUpdateEvent,
  ToolResultEvent,
  BeforeInvocationEvent,
  AfterInvocationEvent,
  BeforeModelCallEvent,
  AfterModelCallEvent,
  BeforeToolsEvent,
  AfterToolsEvent,
  BeforeToolCallEvent,
  AfterToolCallEvent,
  MessageAddedEvent,
  InterruptEvent,
  AgentResultEvent,
]

/** Options of {@link createStrandsRecorderPlugin}. */
export interface StrandsRecorderPluginOptions {
  /** Plugin name, unique per agent. Default {@link STRANDS_RECORDER_PLUGIN_NAME}. */
  name?: string
}

/**
 * Registers `recorder` on `agent`: a `ModelStreamUpdateEvent` hook records each message-stop event's token
 * record while the model call ends (before `MaxTokensError` or any later failure can skip it). It runs with
 * `HookOrder.SDK_FIRST`, so a failing hook of the user's cannot run first and abort the call unrecorded. When
 * the recorder has an `inner` callback, every agent stream event is forwarded to it as well.
 */
export function attachRecorderToAgent(recorder: TokenRecorder<AgentStreamEvent>, agent: LocalAgent): void {
  const handle = (event: AgentStreamEvent) => recorder.handle(event)
  const eventClasses = recorder.inner === undefined ? [ModelStreamUpdateEvent] : AGENT_STREAM_EVENT_CLASSES
  for (const eventClass of eventClasses) agent.addHook(eventClass, handle, { order: HookOrder.SDK_FIRST })
}

/**
 * Wraps a core `TokenRecorder` (from `@vllm-tito/recorder`) as a Strands {@link Plugin}:
 * `new Agent({ plugins: [createStrandsRecorderPlugin(recorder)] })`. The recorder must have been created with
 * `extractMessageStop: extractStrandsMessageStop`, or it would record nothing. The `VLLMTokenRecorder` of
 * `@vllm-tito/recorder/strands` is itself a plugin and needs no wrapping.
 *
 * @throws InvalidOptionError when the recorder has no event extractor, or for a bad option.
 */
export function createStrandsRecorderPlugin(
  recorder: TokenRecorder<AgentStreamEvent>,
  options: StrandsRecorderPluginOptions = {},
): Plugin {
  const where = 'createStrandsRecorderPlugin'
  const name = new OptionReader(where, options).rejectUnknown(['name']).string('name', { nonEmpty: true })
  if (recorder.extractMessageStop === undefined) {
    throw new InvalidOptionError(
      where,
      'recorder',
      'the recorder has no `extractMessageStop`, so it would record nothing from Strands events: create it with `extractMessageStop: extractStrandsMessageStop`, or use `VLLMTokenRecorder` from @vllm-tito/recorder/strands',
    )
  }
  return {
    name: name ?? STRANDS_RECORDER_PLUGIN_NAME,
    initAgent: (agent) => attachRecorderToAgent(recorder, agent),
  }
}
