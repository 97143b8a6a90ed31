// The same replayed vLLM stream through a Strands Agent twice: with VLLMModel (token ids captured, verified,
// attached to the message) and with the SDK's own OpenAIModel (`api: 'chat'`, which ignores the ids).
// The SSE bytes are prepared once and served from a loopback node:http server inside this process.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Agent, type Model, NullConversationManager } from '@strands-agents/sdk'
import { OpenAIModel } from '@strands-agents/sdk/models/openai'
import { type BenchFigure, type BenchOptions, medianCpuMs, runIfMain } from '../../../bench/figures'
import { VLLMModel } from '../src/index'

const MODEL_ID = 'Qwen/Qwen3-8B'
const TARGET_RATIO = 1.05

/** A vLLM chat stream with `return_token_ids`: role chunk with prompt ids, one token per chunk, finish, usage. */
function prepareStream(completionTokens: number): Buffer {
  const promptTokenIds = Array.from({ length: 200 }, (_, index) => 1000 + index)
  const base = { id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1789531269, model: MODEL_ID }
  const lines: string[] = [
    JSON.stringify({
      ...base,
      choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }],
      prompt_token_ids: promptTokenIds,
    }),
  ]
  for (let index = 0; index < completionTokens - 1; index += 1) {
    lines.push(
      JSON.stringify({
        ...base,
        choices: [
          {
            index: 0,
            delta: { content: ' word' },
            logprobs: null,
            finish_reason: null,
            token_ids: [3409 + (index % 7)],
          },
        ],
      }),
    )
  }
  lines.push(
    JSON.stringify({
      ...base,
      choices: [
        {
          index: 0,
          delta: { content: '' },
          logprobs: null,
          finish_reason: 'stop',
          stop_reason: null,
          token_ids: [151645],
        },
      ],
    }),
    JSON.stringify({
      ...base,
      choices: [],
      usage: {
        prompt_tokens: promptTokenIds.length,
        total_tokens: promptTokenIds.length + completionTokens,
        completion_tokens: completionTokens,
      },
    }),
    '[DONE]',
  )
  return Buffer.from(lines.map((line) => `data: ${line}\n\n`).join(''))
}

async function serve(body: Buffer): Promise<{ server: Server; baseUrl: string }> {
  const server = createServer((request, response) => {
    request.resume()
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' })
      response.end(body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { server, baseUrl: `http://127.0.0.1:${port}/v1` }
}

async function runAgent(model: Model, expectedCharacters: number): Promise<void> {
  const agent = new Agent({
    model,
    printer: false,
    conversationManager: new NullConversationManager(),
    retryStrategy: null,
  })
  const result = await agent.invoke('Write many words.')
  const block = result.lastMessage.content[0]
  // a run that silently lost output would make the comparison meaningless
  if (block?.type !== 'textBlock' || block.text.length !== expectedCharacters) {
    throw new Error('the agent did not receive the whole replayed stream')
  }
}

/** Median CPU time of an Agent call over the same stream, VLLMModel vs OpenAIModel (chat). */
export default async function benchmark(options: BenchOptions): Promise<BenchFigure[]> {
  const completionTokens = options.quick ? 500 : 4_000
  const callsPerSample = options.quick ? 2 : 5
  const repeats = options.quick ? 5 : 9
  const { server, baseUrl } = await serve(prepareStream(completionTokens))
  const expectedCharacters = (completionTokens - 1) * ' word'.length
  try {
    const vllmModel = new VLLMModel({ baseUrl, modelId: MODEL_ID, returnTokenIds: true })
    const openAIModel = new OpenAIModel({
      api: 'chat',
      apiKey: 'EMPTY',
      clientConfig: { baseURL: baseUrl },
      modelId: MODEL_ID,
    })
    const sample = (model: Model) => async () => {
      for (let call = 0; call < callsPerSample; call += 1) await runAgent(model, expectedCharacters)
    }
    // the baseline is measured before and after, so drift over the run (JIT, heap growth) cancels out
    const openAIBefore = await medianCpuMs(sample(openAIModel), repeats)
    const vllmMs = await medianCpuMs(sample(vllmModel), repeats)
    const openAIAfter = await medianCpuMs(sample(openAIModel), repeats)
    const openAIMs = (openAIBefore + openAIAfter) / 2
    const ratio = vllmMs / openAIMs
    const name = `strands: Agent over a ${completionTokens}-token stream`
    return [
      { benchmark: name, metric: 'cpu time per call, VLLMModel', value: vllmMs / callsPerSample, unit: 'ms' },
      {
        benchmark: name,
        metric: 'cpu time per call, OpenAIModel chat',
        value: openAIMs / callsPerSample,
        unit: 'ms',
      },
      {
        benchmark: name,
        metric: 'VLLMModel / OpenAIModel',
        value: ratio,
        unit: 'x',
        target: `<= ${TARGET_RATIO}x`,
        meetsTarget: ratio <= TARGET_RATIO,
      },
    ]
  } finally {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

await runIfMain(import.meta.url, benchmark)
