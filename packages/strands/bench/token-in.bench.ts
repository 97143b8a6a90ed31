// Token-in mode against chat mode, per model call of the same agent rollout: a Strands Agent with a calculator
// over two user turns (four calls: tool call, answer, tool call, answer, thinking on) against mock-vllm running
// in its own process, so only the client's CPU is counted here. The two modes run interleaved in one run, each
// rollout with a fresh agent and model (one per rollout, as token-in mode asks). Token-in pays its /tokenize
// round trip on every call (the template probe and the fixed prefix once per server and model), chat mode the
// server's full re-render: the target is on the wall time per call, everything counted.
//
// The main workload carries a system prompt of about 1,000 tokens, as agent prompts do. The mock generates
// instantly, so without one a call is little more than its HTTP round trips and token-in's second round trip
// weighs most: that bare workload is reported too, as the floor.
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
/** About 1,000 tokens of agent instructions. */
const SYSTEM_PROMPT = Array.from(
  { length: 40 },
  (_, rule) =>
    `Rule ${rule + 1}: when a question involves arithmetic, call the calculator tool and report the exact result it returns.`,
).join('\n')
const MAIN = 'strands: token-in vs chat mode (agent, 4 calls, 1,000-token system prompt)'
const BARE = 'strands: token-in vs chat mode (agent, 4 calls, no system prompt)'

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

/** One rollout of each mode, measured in the same round. */
interface RoundSample {
  chat: RolloutTimes
  tokenIn: RolloutTimes
}

async function runRollout(
  baseUrl: string,
  tokenIn: boolean,
  systemPrompt: string | undefined,
): Promise<RolloutTimes> {
  const model = new VLLMModel({ baseUrl, modelId: MODEL_ID, returnTokenIds: true, tokenIn })
  const agent = new Agent({
    model,
    tools: [calculator],
    ...(systemPrompt !== undefined && { systemPrompt }),
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

/** Both modes' rollouts, interleaved round by round (alternating which goes first), after one warm-up each. */
async function measure(
  baseUrl: string,
  rounds: number,
  systemPrompt: string | undefined,
): Promise<RoundSample[]> {
  // warm-up: JIT, sockets, the mock's caches, the template facts token-in keeps per server
  await runRollout(baseUrl, false, systemPrompt)
  await runRollout(baseUrl, true, systemPrompt)
  const samples: RoundSample[] = []
  for (let round = 0; round < rounds; round += 1) {
    // a drift in the machine's load then hits both alike
    if (round % 2 === 0) {
      const chat = await runRollout(baseUrl, false, systemPrompt)
      samples.push({ chat, tokenIn: await runRollout(baseUrl, true, systemPrompt) })
    } else {
      const tokenIn = await runRollout(baseUrl, true, systemPrompt)
      samples.push({ tokenIn, chat: await runRollout(baseUrl, false, systemPrompt) })
    }
  }
  return samples
}

function median(values: number[]): number {
  const sorted = [...values].sort((left, right) => left - right)
  return sorted[Math.floor(sorted.length / 2)]!
}

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0)

/** Median over rounds of token-in's summed per-call times over chat's. */
function rolloutRatio(samples: RoundSample[], key: keyof RolloutTimes): number {
  return median(samples.map((sample) => sum(sample.tokenIn[key]) / sum(sample.chat[key])))
}

/** Per call and per rollout: medians over rounds of token-in / chat. */
export default async function benchmark(options: BenchOptions): Promise<BenchFigure[]> {
  // 75 rounds: at 25 the median moved 1.07-1.25 between runs of an idle machine, at 75 it stays within 1.14-1.16
  const rounds = options.quick ? 5 : 75
  const server = await spawnMockVllm(['--policy', 'demo', '--seed', '3'])
  try {
    const samples = await measure(server.baseUrl, rounds, SYSTEM_PROMPT)
    const bare = await measure(server.baseUrl, rounds, undefined)
    const figures: BenchFigure[] = []
    for (let call = 0; call < CALLS; call += 1) {
      const ratio = (key: keyof RolloutTimes) =>
        median(samples.map((sample) => sample.tokenIn[key][call]! / sample.chat[key][call]!))
      const chatMs = median(samples.map((sample) => sample.chat.wallMs[call]!))
      figures.push(
        { benchmark: MAIN, metric: `call ${call + 1}: chat wall time`, value: chatMs, unit: 'ms' },
        {
          benchmark: MAIN,
          metric: `call ${call + 1}: token-in / chat wall time`,
          value: ratio('wallMs'),
          unit: 'x',
        },
        {
          benchmark: MAIN,
          metric: `call ${call + 1}: token-in / chat client cpu`,
          value: ratio('cpuMs'),
          unit: 'x',
        },
      )
    }
    const perRollout = rolloutRatio(samples, 'wallMs')
    figures.push(
      {
        benchmark: MAIN,
        metric: 'token-in / chat wall time per call (rollout mean)',
        value: perRollout,
        unit: 'x',
        target: `<= ${TARGET_RATIO}x`,
        meetsTarget: perRollout <= TARGET_RATIO,
      },
      {
        benchmark: MAIN,
        metric: 'token-in / chat client cpu per call (rollout mean)',
        value: rolloutRatio(samples, 'cpuMs'),
        unit: 'x',
      },
      {
        benchmark: BARE,
        metric: 'token-in / chat wall time per call (rollout mean)',
        value: rolloutRatio(bare, 'wallMs'),
        unit: 'x',
      },
      {
        benchmark: BARE,
        metric: 'token-in / chat client cpu per call (rollout mean)',
        value: rolloutRatio(bare, 'cpuMs'),
        unit: 'x',
      },
    )
    return figures
  } finally {
    await server.stop()
  }
}

await runIfMain(import.meta.url, benchmark)
