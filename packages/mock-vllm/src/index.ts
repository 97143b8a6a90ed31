export type {
  ContextOverflowWording,
  MockFault,
  MockFaultCondition,
  MockPacing,
  MockPolicy,
  MockReplyFunction,
  MockReplyRequest,
  MockRequestLog,
  MockVllmMode,
  MockVllmOptions,
  MockVllmServer,
  ToolStreamQuirk,
} from './mock-vllm-options'
export { type ChatRenderOptions, loadQwen3Tokenizer, type Qwen3Tokenizer } from './qwen3-tokenizer'
export type { RenderedConversation } from './rendered-conversation'
export { startMockVllm } from './start-mock-vllm'
