import type { AgentResult } from '@strands-agents/sdk'

/** The text blocks of the agent's final message, joined: the answer without the reasoning blocks. */
export function answerText(result: AgentResult): string {
  const texts: string[] = []
  for (const block of result.lastMessage.content) {
    if (block.type === 'textBlock') texts.push(block.text)
  }
  return texts.join('\n').trim()
}
