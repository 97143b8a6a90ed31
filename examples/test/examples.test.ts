// Every example as a user runs it (`pnpm example <name>`): a child process against the embedded mock; the
// assertions check the printed ids against what the real Qwen3 tokenizer computes and parse the files written.
import { join } from 'node:path'
import { loadQwen3Tokenizer } from '@vllm-tito/mock-vllm'
import { readJsonlRecords } from '@vllm-tito/recorder'
import type { AgentLightningTriplet, SkyRLGeneratorOutput, VerlRow } from '@vllm-tito/trajectory'
import { afterEach, describe, expect, it } from 'vitest'
import { type ExampleRun, parseJsonl, runExampleFile, valueAfter } from './run-example'

const runs: ExampleRun[] = []
async function runExample(file: string): Promise<ExampleRun> {
  const run = await runExampleFile(file)
  runs.push(run)
  expect(run.stderr).toBe('')
  expect(run.exitCode).toBe(0)
  return run
}
afterEach(() => {
  for (const run of runs.splice(0)) run.cleanUp()
})

const IM_END = 151645

describe('examples against the embedded mock', () => {
  it('basic-agent prints the answer and the exact prompt and response token counts', async () => {
    const { stdout } = await runExample('basic-agent.ts')
    const tokenizer = await loadQwen3Tokenizer()
    const answer = 'Hello! I am a mock vLLM server. How can I help you today?'
    expect(valueAfter(stdout, 'answer: ')).toBe(answer)
    const promptIds = tokenizer.encodeChat([{ role: 'user', content: 'Say hello' }], {
      addGenerationPrompt: true,
    })
    expect(valueAfter(stdout, 'prompt tokens: ')).toBe(String(promptIds.length))
    expect(valueAfter(stdout, 'prompt token ids: ')).toBe(
      `[${promptIds.join(', ')}] (${promptIds.length} ids)`,
    )
    const responseCount = Number(valueAfter(stdout, 'response tokens: '))
    // the response is the demo policy's think block plus the answer, ending with <|im_end|>
    expect(valueAfter(stdout, 'response token ids: ')).toMatch(
      new RegExp(`, ${IM_END}\\] \\(${responseCount} ids\\)$`),
    )
    expect(responseCount).toBeGreaterThan(tokenizer.encode(answer).length)
    expect(valueAfter(stdout, 'record on the message: ')).toBe('yes; verified against usage: yes')
  })

  it('tool-validation shows the error texts the model receives for an unknown tool and an unknown argument', async () => {
    const { stdout } = await runExample('tool-validation.ts')
    expect(stdout).toContain(
      [
        'tool calls and the results the model received:',
        '  fake_tool {"query":"17 * 19"} ✗ Error: unknown tool: fake_tool | allowed_tools=[calculator]',
        '  calculator {"expression":"17 * 19","invalid_param":1} ✗ Error: tool_name=<calculator> | unknown argument(s): invalid_param',
        '  calculator {"expression":"17 * 19"} → 323',
        'answer: 17 * 19 = 323.',
        'rejected calls naming fake_tool: unknown=1 invalid=0 (unknown-tool=1)',
        'rejected calls naming calculator: unknown=0 invalid=1 (unknown-arguments=1)',
        'model calls: 4, with verified token ids: 4',
      ].join('\n'),
    )
  })

  it('agent-lightning prints one span per call under the rollout span, with the token ids as attributes', async () => {
    const { stdout } = await runExample('agent-lightning-spans.ts')
    expect(valueAfter(stdout, 'answer: ')).toBe('12 * 7 is 84.')
    const rolloutSpanId = /^ {2}rollout \(([0-9a-f]{16})\)$/m.exec(stdout)?.[1]
    expect(rolloutSpanId).toBeDefined()
    // both token spans are children of the rollout span, next to the SDK's invoke_agent span
    expect(stdout.match(/^ {4}openai\.chat\.completion \([0-9a-f]{16}\)$/gm)).toHaveLength(2)
    expect(stdout.match(new RegExp(`^ {2}parent: {3}${rolloutSpanId}$`, 'gm'))).toHaveLength(2)
    expect(stdout).toMatch(/^ {4}invoke_agent Strands Agent \([0-9a-f]{16}\)$/m)
    const counts = [...stdout.matchAll(/^ {2}prompt_token_ids = \[151644, .* \((\d+) ids\)$/gm)].map(
      (match) => Number(match[1]),
    )
    expect(counts).toHaveLength(2)
    expect(stdout).toContain(`  llm.token_count.prompt = ${counts[0]}`)
    expect(stdout).toContain(`  gen_ai.usage.input_tokens = ${counts[1]}`)
    expect(stdout.match(/^ {2}vllm_tito\.verification\.status = "verified"$/gm)).toHaveLength(2)
    expect(stdout).toContain('  gen_ai.response.finish_reasons = ["tool_calls"]')
    expect(stdout).toContain("spans with token ids: 2; same ids as the recorder's history: yes")
  })

  it('rl-rollout merges the calls into one exact sequence and writes verl rows and Agent Lightning triplets', async () => {
    const run = await runExample('rl-rollout.ts')
    const { stdout } = run
    expect(valueAfter(stdout, 'answer: ')).toBe('128 + 256 is 384. (reward 1)')
    expect(stdout).toContain('call 0: started\ncall 1: merged\n')
    expect(stdout).toContain('same as the builder: yes')

    const { entries } = await readJsonlRecords(join(run.outputDirectory, 'rl-rollout-records.jsonl'))
    const [first, second] = entries.map((entry) => entry.record)
    expect(entries.map((entry) => entry.record.verification.verified)).toEqual([true, true])
    const [row, ...moreRows] = parseJsonl(run.readOutput('rl-rollout-verl.jsonl')) as VerlRow[]
    expect(moreRows).toEqual([])
    const added = second!.promptTokenIds!.length - first!.promptTokenIds!.length - first!.tokenIds!.length
    expect(row?.prompt_ids).toEqual(first!.promptTokenIds)
    expect(row?.response_ids).toEqual([
      ...first!.tokenIds!,
      ...second!.promptTokenIds!.slice(-added),
      ...second!.tokenIds!,
    ])
    expect(row?.response_mask).toEqual([
      ...Array<number>(first!.tokenIds!.length).fill(1),
      ...Array<number>(added).fill(0),
      ...Array<number>(second!.tokenIds!.length).fill(1),
    ])
    // logprobs were requested: the sampled ones, 0.0 on the tool-result tokens
    expect(row?.response_logprobs).toEqual([
      ...first!.logprobs!,
      ...Array<number>(added).fill(0),
      ...second!.logprobs!,
    ])
    expect(row?.reward_score).toBe(1)
    expect(row?.num_turns).toBe(4)
    expect(row?.extra_fields.vllm_tito).toMatchObject({ rollout_id: 'rl-rollout-0', sample_index: 0 })

    const triplets = parseJsonl(run.readOutput('rl-rollout-agent-lightning.jsonl')) as AgentLightningTriplet[]
    expect(triplets.map((triplet) => triplet.response.token_ids)).toEqual([first!.tokenIds, second!.tokenIds])
    expect(triplets.map((triplet) => triplet.prompt.token_ids)).toEqual([
      first!.promptTokenIds,
      second!.promptTokenIds,
    ])
    expect(triplets.map((triplet) => triplet.reward)).toEqual([null, 1])
    expect(triplets.map((triplet) => triplet.response.log_probs)).toEqual([first!.logprobs, second!.logprobs])
    expect(valueAfter(stdout, 'verl rows (JSONL):                        ')).toBe(
      join(run.outputDirectory, 'rl-rollout-verl.jsonl'),
    )
  })

  it('retokenization-drift prints the known HAVING case and the drift of a sampled reply side by side', async () => {
    const { stdout } = await runExample('retokenization-drift.ts')
    expect(stdout).toContain(
      'sampled ids:    [39,83722] → text "HAVING"\nre-encoded ids: [72239,1718]\ndrift index: 0\n',
    )
    const knownTable = stdout
      .split('\n')
      .slice(4, 8)
      .map((line) => line.trim().split(/\s+/))
    expect(knownTable).toEqual([
      ['position', 'sampled', 'id', 'text', 're-encoded', 'id', 'text', 'differs'],
      ['--------', '----------', '-------', '-------------', '-----', '-------'],
      ['0', '39', '"H"', '72239', '"HAV"', '≠'],
      ['1', '83722', '"AVING"', '1718', '"ING"', '≠'],
    ])

    const tokenizer = await loadQwen3Tokenizer()
    const sampled = JSON.parse(/^sampled ids \(\d+\): +(\[.*\])$/m.exec(stdout)![1]!) as number[]
    const reencoded = tokenizer.encode(tokenizer.decode(sampled))
    expect(valueAfter(stdout, `re-encoded ids (${reencoded.length}): `)).toBe(JSON.stringify(reencoded))
    let driftIndex = 0
    while (sampled[driftIndex] === reencoded[driftIndex]) driftIndex += 1
    expect(stdout.match(/^drift index: (\d+)$/gm)).toEqual(['drift index: 0', `drift index: ${driftIndex}`])
    expect(valueAfter(stdout, 'text: ')).toBe(JSON.stringify(tokenizer.decode(sampled)))
    expect(stdout).toContain(`same text, different ids from position ${driftIndex} on`)
  })

  it('plain-client runs a tool loop without Strands; the second prompt extends the first and a SkyRL GeneratorOutput is written', async () => {
    const run = await runExample('plain-client.ts')
    expect(run.stdout).toContain('[calculator "21 * 2" → 42]\nmodel: 21 * 2 is 42.\n')
    expect(run.stdout).toMatch(/^ {3}1 .* 0 {2}prefix .* yes$/m)
    const { entries } = await readJsonlRecords(join(run.outputDirectory, 'plain-client-records.jsonl'))
    expect(entries.map((entry) => [entry.rolloutId, entry.callIndex])).toEqual([
      ['plain-client-0', 0],
      ['plain-client-0', 1],
    ])
    const [first, second] = entries.map((entry) => entry.record)
    const output = JSON.parse(run.readOutput('plain-client-skyrl.json')) as SkyRLGeneratorOutput
    expect(output.prompt_token_ids).toEqual([first!.promptTokenIds])
    expect([...output.prompt_token_ids[0]!, ...output.response_ids[0]!]).toEqual([
      ...second!.promptTokenIds!,
      ...second!.tokenIds!,
    ])
    expect(output.loss_masks[0]!.filter((mask) => mask === 1)).toHaveLength(
      first!.tokenIds!.length + second!.tokenIds!.length,
    )
    expect(output.rewards).toEqual([1])
    expect(output.is_last_step).toEqual([true])
    expect(output.trajectory_ids).toEqual([{ instance_id: 'calculator-21x2', repetition_id: 0 }])
  })

  it('agent-lightning-gateway runs the agent as the controller would; the triplets hold the ids the client recorded', async () => {
    const run = await runExample('agent-lightning-gateway.ts')
    const { stdout } = run
    expect(stdout).toMatch(
      /^agent started (through ts_agent\.py's Agent\(\)\.run\(\), as local mode loads ts_agent:Agent: python3|directly \(python3 was not found, so not through ts_agent\.py\): pnpm) … exited with 0$/m,
    )
    expect(stdout).toContain('  agent | answer: 17 * 23 is 391.\n')
    expect(stdout).toContain('rollout state: succeeded\n')
    expect(stdout).toContain('calls in the triplets: 2, records the client wrote: 2, all ids equal: yes\n')
    expect(stdout).toContain(
      'reward events: 1; the trainer takes the last (value 1, source agent, reason answer-matched) and gives it to call 1\n',
    )
    expect(stdout).toContain(
      "call 1: its prompt starts with call 0's prompt + response\nprefix merge (trajectory level): 2 call(s) → 1 training sample(s)\n",
    )

    const { entries } = await readJsonlRecords(
      join(run.outputDirectory, 'agent-lightning-gateway-records.jsonl'),
    )
    const records = entries.map((entry) => entry.record)
    const triplets = JSON.parse(run.readOutput('agent-lightning-gateway-triplets.json')) as Array<{
      event_type: string
      data: { prompt_token_ids?: number[]; response_token_ids?: number[]; value?: number }
    }>
    const calls = triplets.filter((event) => event.event_type === 'model_request')
    expect(calls.map((call) => call.data.prompt_token_ids)).toEqual(
      records.map((record) => record.promptTokenIds),
    )
    expect(calls.map((call) => call.data.response_token_ids)).toEqual(
      records.map((record) => record.tokenIds),
    )
    expect(
      triplets.filter((event) => event.event_type === 'reward').map((event) => event.data.value),
    ).toEqual([1])
    const [first, second] = records
    expect(second!.promptTokenIds!.slice(0, first!.promptTokenIds!.length + first!.tokenIds!.length)).toEqual(
      [...first!.promptTokenIds!, ...first!.tokenIds!],
    )
  })
})
