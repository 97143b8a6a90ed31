import type { ChatTool } from '@vllm-tito/spec'

/** the calculator tool both golden suites offer, so the mock's renderings and the tokenizer's agree */
export const calculatorTools: ChatTool[] = [
  {
    type: 'function',
    function: {
      name: 'calculator',
      description: 'Evaluates an arithmetic expression.',
      parameters: {
        type: 'object',
        properties: { expression: { type: 'string' } },
        required: ['expression'],
      },
    },
  },
]
