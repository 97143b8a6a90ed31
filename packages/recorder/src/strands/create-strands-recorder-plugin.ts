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
import type { VLLMTokenRecorder } from '../vllm-token-recorder'

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
export function attachRecorderToAgent(
  recorder: VLLMTokenRecorder<AgentStreamEvent>,
  agent: LocalAgent,
): void {
  const handle = (event: AgentStreamEvent) => recorder.handle(event)
  const eventClasses = recorder.inner === undefined ? [ModelStreamUpdateEvent] : AGENT_STREAM_EVENT_CLASSES
  for (const eventClass of eventClasses) agent.addHook(eventClass, handle, { order: HookOrder.SDK_FIRST })
}

/**
 * Wraps a core recorder (from `@vllm-tito/recorder`) as a Strands {@link Plugin}:
 * `new Agent({ plugins: [createStrandsRecorderPlugin(recorder)] })`. The `VLLMTokenRecorder` of
 * `@vllm-tito/recorder/strands` is itself a plugin and needs no wrapping.
 */
export function createStrandsRecorderPlugin(
  recorder: VLLMTokenRecorder<AgentStreamEvent>,
  options: StrandsRecorderPluginOptions = {},
): Plugin {
  return {
    name: options.name ?? STRANDS_RECORDER_PLUGIN_NAME,
    initAgent: (agent) => attachRecorderToAgent(recorder, agent),
  }
}
