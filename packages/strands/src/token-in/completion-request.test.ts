import { describe, expect, it } from 'vitest'
import { completionRequest } from './completion-request'

const chat = {
  model: 'Qwen/Qwen3-8B',
  messages: [{ role: 'user' as const, content: 'Hi' }],
  tools: [{ type: 'function' as const, function: { name: 'clock' } }],
  tool_choice: 'auto' as const,
  chat_template_kwargs: { enable_thinking: false },
  return_token_ids: false,
  temperature: 0.7,
  top_k: 20,
}

describe('completionRequest', () => {
  it('keeps the sampling fields, drops the chat-only ones and sends what token-in relies on', () => {
    expect(completionRequest({ chat, promptIds: [1, 2, 3], endOfTurnId: 151645, maxModelLen: 100 })).toEqual({
      model: 'Qwen/Qwen3-8B',
      temperature: 0.7,
      top_k: 20,
      prompt: [1, 2, 3],
      max_tokens: 97,
      return_token_ids: true,
      skip_special_tokens: false,
      stop_token_ids: [151645],
    })
  })

  it('max_tokens: the request’s own, max_completion_tokens, else the rest of the context; none known is undefined', () => {
    const input = { promptIds: [1, 2], endOfTurnId: 7, maxModelLen: 10 }
    expect(completionRequest({ ...input, chat: { ...chat, max_tokens: 5 } })?.max_tokens).toBe(5)
    const completion = completionRequest({ ...input, chat: { ...chat, max_completion_tokens: 6 } })
    expect(completion?.max_tokens).toBe(6)
    expect(completion).not.toHaveProperty('max_completion_tokens')
    // a full context still sends 1: the server answers with its own context-overflow error
    expect(completionRequest({ ...input, chat, maxModelLen: 2 })?.max_tokens).toBe(1)
    expect(completionRequest({ ...input, chat, maxModelLen: null })).toBeUndefined()
  })

  it('translates chat logprobs to the number of alternatives and adds the end of turn to stop_token_ids once', () => {
    const input = { promptIds: [1], endOfTurnId: 7, maxModelLen: 10 }
    const withLogprobs = completionRequest({ ...input, chat: { ...chat, logprobs: true, top_logprobs: 3 } })
    expect(withLogprobs).toMatchObject({ logprobs: 3 })
    expect(withLogprobs).not.toHaveProperty('top_logprobs')
    expect(completionRequest({ ...input, chat: { ...chat, logprobs: true } })?.logprobs).toBe(0)
    expect(completionRequest({ ...input, chat })).not.toHaveProperty('logprobs')
    expect(
      completionRequest({ ...input, chat: { ...chat, stop_token_ids: [3, 7] } })?.stop_token_ids,
    ).toEqual([3, 7])
    expect(completionRequest({ ...input, chat: { ...chat, stop_token_ids: [3] } })?.stop_token_ids).toEqual([
      3, 7,
    ])
  })
})
