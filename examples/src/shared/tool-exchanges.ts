import type { Message } from '@strands-agents/sdk'

/** One tool call of a conversation and the result the model got back for it. */
export interface ToolExchange {
  /** The tool name the model asked for (possibly one that does not exist). */
  name: string
  /** The input as the agent parsed it. */
  input: unknown
  /** `success`, `error`, or `missing` when no result followed. */
  status: 'success' | 'error' | 'missing'
  /** The result text the model received on its next turn (for rejected calls: the validation error). */
  resultText: string
}

/** Pairs every tool call in `messages` with its result, in order. */
export function toolExchanges(messages: readonly Message[]): ToolExchange[] {
  const results = new Map<string, { status: 'success' | 'error'; text: string }>()
  for (const message of messages) {
    for (const block of message.content) {
      if (block.type !== 'toolResultBlock') continue
      const text = block.content
        .map((part) => (part.type === 'textBlock' ? part.text : JSON.stringify(part)))
        .join('\n')
      results.set(block.toolUseId, { status: block.status, text })
    }
  }
  const exchanges: ToolExchange[] = []
  for (const message of messages) {
    for (const block of message.content) {
      if (block.type !== 'toolUseBlock') continue
      const result = results.get(block.toolUseId)
      exchanges.push({
        name: block.name,
        input: block.input,
        status: result?.status ?? 'missing',
        resultText: result?.text ?? '',
      })
    }
  }
  return exchanges
}

/** `calculator {"expression":"17 * 23"} → 391` */
export function formatToolExchange(exchange: ToolExchange): string {
  const marker = exchange.status === 'error' ? '✗' : '→'
  return `${exchange.name} ${JSON.stringify(exchange.input)} ${marker} ${exchange.resultText}`
}
