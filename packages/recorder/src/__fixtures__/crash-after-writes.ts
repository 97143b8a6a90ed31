// Child process of jsonl-file-sink.test.ts: records `count` calls into a JSONL sink, never closes it, and
// dies by SIGKILL (no exit handlers, no flushing) as if it crashed while the next call was in flight.
import { makeRecord } from '@vllm-tito/spec/testing'
import { JsonlFileSink } from '../jsonl-file-sink'
import { TokenRecorder } from '../token-recorder'

const [path, countText] = process.argv.slice(2)
const sink = new JsonlFileSink(path!)
const recorder = new TokenRecorder({ sink, rolloutId: 'crashing-rollout' })
for (let index = 0; index < Number(countText); index += 1) {
  recorder.record(makeRecord({ responseId: `chatcmpl-${index}`, tokenIds: [index, 151645] }))
}
process.kill(process.pid, 'SIGKILL')
