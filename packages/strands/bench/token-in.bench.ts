// Token-in mode against chat mode, per model call of the same agent rollout: a Strands Agent with a calculator
// over two user turns (four calls: tool call, answer, tool call, answer, thinking on) against mock-vllm running
// in its own process, so only the client's CPU is counted here. The two modes run interleaved in one run, each
// rollout with a fresh agent and model (one per rollout, as token-in mode asks). Token-in pays its /tokenize
// round trip every call (two renders in parallel per append, plus the template probe on the first call), chat
// mode the server's full re-render: the target is on the wall time per call, everything counted.
import {
  AfterModelCallEvent,
  Agent,
  BeforeModelCallEvent,
  NullConversationManager,
  tool,
} from '@strands-agents/sdk'
import { z } from 'zod'
import { type BenchFigure, type BenchOptions, runIfMain } from '../../../bench/figures'
import { spawnMockVllm } from '../../../bench/spawn-mock-vllm'
import { VLLMModel } from '../src/index'

const MODEL_ID = 'Qwen/Qwen3-8B'
const TARGET_RATIO = 1.3
const QUESTIONS = ['What is 12 * 7?', 'And what is 3 + 4?']
const CALLS = 4

const calculator = tool({
  name: 'calculator',
  description: 'Evaluates one arithmetic expression such as 12 * 7.',
  inputSchema: z.object({ expression: z.string() }).strict(),
  callback: ({ expression }) => {
    const [left, operator, right] = expression.split(' ')
    return String(operator === '*' ? Number(left) * Number(right) : Number(left) + Number(right))
  },
})

/** Wall-clock and client-CPU milliseconds of each model call of one rollout. */
interface RolloutTimes {
  wallMs: number[]
  cpuMs: number[]
}

async function runRollout(baseUrl: string, tokenIn: boolean): Promise<RolloutTimes> {
  const model = new VLLMModel({ baseUrl, modelId: MODEL_ID, returnTokenIds: true, tokenIn })
  const agent = new Agent({
    model,
    tools: [calculator],
    printer: false,
    conversationManager: new NullConversationManager(),
    retryStrategy: null,
  })
  const times: RolloutTimes = { wallMs: [], cpuMs: [] }
  let started = 0
  let cpuBefore = process.cpuUsage()
  agent.addHook(BeforeModelCallEvent, () => {
    started = performance.now()
    cpuBefore = process.cpuUsage()
  })
  agent.addHook(AfterModelCallEvent, () => {
    const cpu = process.cpuUsage(cpuBefore)
    times.wallMs.push(performance.now() - started)
    times.cpuMs.push((cpu.user + cpu.system) / 1000)
  })
  for (const question of QUESTIONS) await agent.invoke(question)
  // a rollout that took another path would compare different work
  if (times.wallMs.length !== CALLS)
    throw new Error(`expected ${CALLS} model calls, got ${times.wallMs.length}`)
  return times
}

function median(values: number[]): number {
  const sorted = [...values].sort((left, right) => left - right)
  return sorted[Math.floor(sorted.length / 2)]!
}

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0)

/** Per turn and per rollout: median over rounds of token-in / chat, interleaved round by round. */
export default async function benchmark(options: BenchOptions): Promise<BenchFigure[]> {
  const rounds = options.quick ? 5 : 25
  const server = await spawnMockVllm(['--policy', 'demo', '--seed', '3'])
  const name = 'strands: token-in vs chat mode (agent, 4 calls)'
  try {
    const samples: Array<{ chat: RolloutTimes; tokenIn: RolloutTimes }> = []
    // warm-up: JIT, sockets, the mock's caches
    await runRollout(server.baseUrl, false)
    await runRollout(server.baseUrl, true)
    for (let round = 0; round < rounds; round += 1) {
      // alternate which mode goes first, so a drift in load hits both alike
      if (round % 2 === 0) {
        const chat = await runRollout(server.baseUrl, false)
        samples.push({ chat, tokenIn: await runRollout(server.baseUrl, true) })
      } else {
        const tokenIn = await runRollout(server.baseUrl, true)
        samples.push({ tokenIn, chat: await runRollout(server.baseUrl, false) })
      }
    }
    const figures: BenchFigure[] = []
    for (let call = 0; call < CALLS; call += 1) {
      const wall = median(samples.map((sample) => sample.tokenIn.wallMs[call]! / sample.chat.wallMs[call]!))
      const cpu = median(samples.map((sample) => sample.tokenIn.cpuMs[call]! / sample.chat.cpuMs[call]!))
      const chatMs = median(samples.map((sample) => sample.chat.wallMs[call]!))
      figures.push(
        { benchmark: name, metric: `call ${call + 1}: chat wall time`, value: chatMs, unit: 'ms' },
        { benchmark: name, metric: `call ${call + 1}: token-in / chat wall time`, value: wall, unit: 'x' },
        { benchmark: name, metric: `call ${call + 1}: token-in / chat client cpu`, value: cpu, unit: 'x' },
      )
    }
    const perRollout = median(samples.map((sample) => sum(sample.tokenIn.wallMs) / sum(sample.chat.wallMs)))
    figures.push(
      {
        benchmark: name,
        metric: 'token-in / chat wall time per call (rollout mean)',
        value: perRollout,
        unit: 'x',
        target: `<= ${TARGET_RATIO}x`,
        meetsTarget: perRollout <= TARGET_RATIO,
      },
      {
        benchmark: name,
        metric: 'token-in / chat client cpu per call (rollout mean)',
        value: median(samples.map((sample) => sum(sample.tokenIn.cpuMs) / sum(sample.chat.cpuMs))),
        unit: 'x',
      },
    )
    return figures
  } finally {
    await server.stop()
  }
}

await runIfMain(import.meta.url, benchmark)
