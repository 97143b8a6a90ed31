// Agent Lightning 1.0 on one machine, no GPU: mock-vllm as the model server, the gateway stand-in as agl-server,
// and this script in the roles of the trainer and the local controller. It registers the server, creates a
// rollout, runs the TypeScript agent as the controller would (its environment, a child process, through
// ts_agent.py when python3 is available), then prints what the trainer reads — the triplets of
// `GET /api/rollouts/{rid}/events?format=triplet` — next to the ids the client captured, the reward, and whether
// Agent Lightning's prefix merge (trajectory level) joins the calls into one sample.
import { writeFileSync } from 'node:fs'
import { startMockAgentLightning } from '@vllm-tito/mock-agent-lightning'
import { startMockVllm } from '@vllm-tito/mock-vllm'
import { readJsonlRecords } from '@vllm-tito/recorder'
import { sameIds, startsWithConcatenation, type TokenRecord } from '@vllm-tito/spec'
import { environmentFromMap, runAgentProcess } from './shared/agent-process'
import { formatTable } from './shared/format-table'
import { freshOutputPath } from './shared/output-files'
import { runExample } from './shared/target-server'

const MODEL = 'Qwen/Qwen3-8B'
const KEY = 'agl-dev-key'
const INPUT = { question: 'What is 17 * 23?', answer: '391' }
/** `config.local` of the rollout, as the trainer sets it from `agentlightning.local`. */
const LOCAL_CONFIG = {
  agent_class: 'ts_agent:Agent',
  env_map: { QUESTION: 'input.question', ANSWER: 'input.answer' },
}

/** One entry of the triplet view, as the trainer reads it. */
interface TripletEvent {
  event_type: string
  data: {
    prompt_token_ids?: number[]
    response_token_ids?: number[]
    response_log_probs?: number[] | null
    status?: string
    value?: unknown
    source?: string
    reason?: string
  }
}

runExample(async () => {
  const vllm = await startMockVllm({ model: MODEL })
  const gateway = await startMockAgentLightning({ key: KEY, modelName: MODEL })
  try {
    const api = gatewayApi(gateway.url)
    // what the trainer does: register the model server, create a rollout
    await api('POST', '/api/models', [{ model: MODEL, endpoint: `${vllm.baseUrl}/v1` }])
    const [created] = (await api('POST', '/api/rollouts', [
      { input: INPUT, is_train: true, config: { local: LOCAL_CONFIG } },
    ])) as Array<{ rollout_id: string }>
    const rolloutId = created!.rollout_id
    console.log(
      'Agent Lightning 1.0 on one machine: mock-vllm as the model server, the gateway stand-in as agl-server',
    )
    console.log(`model server: mock-vllm at ${vllm.baseUrl}, ${MODEL} (registered with POST /api/models)`)
    console.log(`gateway:      ${gateway.url}`)
    console.log(`rollout:      ${rolloutId} (train), input ${JSON.stringify(INPUT)}`)

    // what the local controller does: mark it running, start the agent with its environment, record the exit
    await api('PATCH', `/api/rollouts/${rolloutId}`, { status: { state: 'running', last_attempt_id: '0' } })
    const recordsPath = freshOutputPath('agent-lightning-gateway-records.jsonl')
    const environment = {
      ...process.env,
      ...gateway.agentEnvironment(rolloutId),
      ...environmentFromMap(INPUT, LOCAL_CONFIG.env_map),
      VLLM_TITO_RECORDS: recordsPath,
    }
    const run = await runAgentProcess(environment, {
      onLine: (line) => console.log(`  agent | ${line}`),
    })
    const how =
      run.launcher === 'ts_agent.py'
        ? "through ts_agent.py's Agent().run(), as local mode loads ts_agent:Agent"
        : 'directly (python3 was not found, so not through ts_agent.py)'
    console.log(`agent started ${how}: ${run.command[0]} … exited with ${run.exitCode}`)
    const state = run.exitCode === 0 ? 'succeeded' : 'failed'
    await api('PATCH', `/api/rollouts/${rolloutId}`, { status: { state } })
    console.log(`rollout state: ${state}`)
    if (run.exitCode !== 0) throw new Error(`the agent failed:\n${run.stderr}`)

    // what the trainer reads
    const triplets = (await api('GET', `/api/rollouts/${rolloutId}/events?format=triplet`)) as TripletEvent[]
    const tripletsPath = freshOutputPath('agent-lightning-gateway-triplets.json')
    writeFileSync(tripletsPath, `${JSON.stringify(triplets, null, 2)}\n`)
    const { entries } = await readJsonlRecords(recordsPath)
    printTriplets(
      rolloutId,
      triplets,
      entries.map((entry) => entry.record),
    )
    console.log()
    console.log(`triplets (JSON):       ${tripletsPath}`)
    console.log(`token records (JSONL): ${recordsPath}`)
  } finally {
    await gateway.close()
    await vllm.close()
  }
})

/** A caller of the gateway's REST API with the key, as the trainer and the controller call it. */
function gatewayApi(url: string) {
  return async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const answer = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    })
    const text = await answer.text()
    if (!answer.ok) throw new Error(`${method} ${path}: HTTP ${answer.status} ${text}`)
    return text === '' ? null : JSON.parse(text)
  }
}

/** The triplets next to the client's records, the reward, and the prefix merge of the trainer's adapter. */
function printTriplets(rolloutId: string, triplets: TripletEvent[], records: TokenRecord[]): void {
  const calls = triplets.filter((event) => event.event_type === 'model_request')
  const rewards = triplets.filter((event) => event.event_type === 'reward')
  console.log()
  console.log(`what the trainer reads: GET /api/rollouts/${rolloutId}/events?format=triplet`)
  const rows = calls.map((call, index) => {
    const record = records[index]
    const same =
      record !== undefined &&
      sameIds(call.data.prompt_token_ids ?? [], record.promptTokenIds ?? []) &&
      sameIds(call.data.response_token_ids ?? [], record.tokenIds ?? [])
    return [
      index,
      call.data.prompt_token_ids?.length ?? 0,
      call.data.response_token_ids?.length ?? 0,
      call.data.response_log_probs?.length ?? 0,
      call.data.status ?? '',
      same ? 'yes' : 'no',
    ]
  })
  console.log(
    formatTable(
      ['call', 'prompt ids', 'response ids', 'logprobs', 'status', "same as the client's record"],
      rows,
    ),
  )
  const allSame = rows.length === records.length && rows.every((row) => row[5] === 'yes')
  console.log(
    `calls in the triplets: ${calls.length}, records the client wrote: ${records.length}, all ids equal: ${allSame ? 'yes' : 'no'}`,
  )
  const last = rewards.at(-1)?.data
  console.log(
    `reward events: ${rewards.length}; the trainer takes the last (value ${String(last?.value)}, source ${last?.source}, reason ${last?.reason}) and gives it to call ${calls.length - 1}`,
  )
  // `ids_startswith(prompt_ids, current_context)` in agentlightning/verl/rollout_adapter.py
  let samples = calls.length === 0 ? 0 : 1
  for (let index = 1; index < calls.length; index += 1) {
    const previous = calls[index - 1]!.data
    const joined = startsWithConcatenation(
      calls[index]!.data.prompt_token_ids ?? [],
      previous.prompt_token_ids ?? [],
      previous.response_token_ids ?? [],
    )
    if (!joined) samples += 1
    console.log(
      `call ${index}: its prompt ${joined ? 'starts' : 'does not start'} with call ${index - 1}'s prompt + response`,
    )
  }
  console.log(`prefix merge (trajectory level): ${calls.length} call(s) → ${samples} training sample(s)`)
}
