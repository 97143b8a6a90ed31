// One cold start of the tokenizer and chat template, in a fresh process (started by prepared-stream.bench.ts):
// prints the load's wall-clock and CPU milliseconds as JSON on stdout.
import { loadQwen3Tokenizer } from '../src/index'

const cpuBefore = process.cpuUsage()
const started = performance.now()
await loadQwen3Tokenizer()
const wallMs = performance.now() - started
const cpu = process.cpuUsage(cpuBefore)
process.stdout.write(`${JSON.stringify({ wallMs, cpuMs: (cpu.user + cpu.system) / 1000 })}\n`)
