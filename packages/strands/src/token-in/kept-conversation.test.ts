import { Message, TextBlock, ToolResultBlock, ToolUseBlock } from '@strands-agents/sdk'
import { describe, expect, it } from 'vitest'
import {
  type KeptConversation,
  matchHistory,
  messageKey,
  type PromptSettings,
  replyKey,
} from './kept-conversation'

const settings: PromptSettings = { system: '"Be brief."', tools: 'null', templateArguments: 'null' }
const user = (text: string) => new Message({ role: 'user', content: [new TextBlock(text)] })
const question = user('What time is it?')
const reply = {
  parsed: { reasoning: null, content: 'Let me look.', toolCalls: [] },
  toolCalls: [{ id: 'cmpl-1-tool-0', name: 'clock', inputJson: '{}' }],
}
const replyMessage = new Message({
  role: 'assistant',
  content: [
    new TextBlock('Let me look.'),
    new ToolUseBlock({ name: 'clock', toolUseId: 'cmpl-1-tool-0', input: {} }),
  ],
})
const result = new Message({
  role: 'user',
  content: [
    new ToolResultBlock({ toolUseId: 'cmpl-1-tool-0', status: 'success', content: [new TextBlock('noon')] }),
  ],
})
const kept: KeptConversation = {
  settings,
  messageKeys: [messageKey(question)],
  replyKey: replyKey(reply.parsed, reply.toolCalls),
  ids: [1, 2, 3],
  toolNames: new Map([['cmpl-1-tool-0', 'clock']]),
  maxModelLen: 100,
}

describe('matchHistory', () => {
  it('appends what follows the kept messages and the unchanged reply', () => {
    expect(replyKey(reply.parsed, reply.toolCalls)).toBe(messageKey(replyMessage))
    expect(matchHistory(kept, [question, replyMessage, result], settings)).toEqual({
      kind: 'append',
      newMessages: [result],
    })
    // metadata the SDK adds (usage, the record) does not count
    const withMetadata = new Message({
      role: 'assistant',
      content: replyMessage.content,
      metadata: { usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } },
    })
    expect(matchHistory(kept, [question, withMetadata, result], settings).kind).toBe('append')
  })

  it('renders from scratch, saying why, for a first call, trimmed or edited history, a changed reply or settings', () => {
    expect(matchHistory(undefined, [question], settings)).toEqual({
      kind: 'render',
      reason: 'first-call',
      detail: null,
    })
    expect(matchHistory(kept, [result], settings)).toEqual({
      kind: 'render',
      reason: 'history-changed',
      detail: 'the conversation has 1 message(s); the kept sequence stands for 1 and the reply',
    })
    expect(matchHistory(kept, [user('What day is it?'), replyMessage, result], settings)).toEqual({
      kind: 'render',
      reason: 'history-changed',
      detail: 'message 0 differs from the one the kept sequence holds',
    })
    const edited = new Message({ role: 'assistant', content: [new TextBlock('Let me look!')] })
    expect(matchHistory(kept, [question, edited, result], settings)).toEqual({
      kind: 'render',
      reason: 'reply-changed',
      detail: 'message 1 is not the reply the model produced',
    })
    expect(
      matchHistory(kept, [question, replyMessage, result], {
        ...settings,
        tools: '[]',
        system: '"Be kind."',
      }),
    ).toEqual({
      kind: 'render',
      reason: 'settings-changed',
      detail: 'the system prompt, tools changed',
    })
  })

  it('renders when nothing new follows the reply, or an assistant message the model did not write does', () => {
    expect(matchHistory(kept, [question, replyMessage], settings)).toMatchObject({
      reason: 'history-changed',
      detail: 'no new message follows the reply',
    })
    const injected = new Message({ role: 'assistant', content: [new TextBlock('Turn ended by a hook')] })
    expect(matchHistory(kept, [question, replyMessage, result, injected], settings)).toMatchObject({
      reason: 'history-changed',
      detail: 'message 3 is an assistant message the model did not generate',
    })
  })
})
