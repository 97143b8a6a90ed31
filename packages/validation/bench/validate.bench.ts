import { type BenchFigure, type BenchOptions, medianCpuMs, runIfMain } from '../../../bench/figures'
import { checkToolInput, createToolInputValidator } from '../src/index'

/** A typical tool: five arguments of the common kinds (string, integer range, enum, boolean, string array). */
const bookingSchema = {
  type: 'object',
  properties: {
    city: { type: 'string', minLength: 1 },
    nights: { type: 'integer', minimum: 1, maximum: 30 },
    room: { type: 'string', enum: ['single', 'double', 'suite'] },
    breakfast: { type: 'boolean' },
    guests: { type: 'array', items: { type: 'string' }, maxItems: 4 },
  },
  required: ['city', 'nights', 'room'],
  additionalProperties: false,
}

const validInput = { city: 'Lisbon', nights: 3, room: 'double', breakfast: true, guests: ['Ada', 'Alan'] }
const invalidInput = { city: 'Lisbon', nights: 0, room: 'penthouse', breakfast: 'yes', guests: ['Ada'] }

/** Validations per second: the cached compiled validator against compiling per call, in the same run. */
export default async function benchmark(options: BenchOptions = {}): Promise<BenchFigure[]> {
  const cachedCalls = options.quick ? 20_000 : 200_000
  const compilingCalls = options.quick ? 50 : 500
  const repeats = options.quick ? 3 : 5
  let rejected = 0

  const validMs = await medianCpuMs(() => {
    for (let call = 0; call < cachedCalls; call += 1) {
      if (checkToolInput('book', validInput, bookingSchema) !== null) rejected += 1
    }
  }, repeats)
  const invalidMs = await medianCpuMs(() => {
    for (let call = 0; call < cachedCalls; call += 1) {
      if (checkToolInput('book', invalidInput, bookingSchema) === null) rejected += 1
    }
  }, repeats)
  const compilingMs = await medianCpuMs(() => {
    for (let call = 0; call < compilingCalls; call += 1) {
      if (createToolInputValidator('book', bookingSchema)(validInput) !== null) rejected += 1
    }
  }, repeats)
  // a wrong verdict would make the timings meaningless
  if (rejected !== 0) throw new Error(`the benchmark inputs were judged wrongly ${rejected} times`)

  const validPerSecond = Math.round((cachedCalls / validMs) * 1000)
  const invalidPerSecond = Math.round((cachedCalls / invalidMs) * 1000)
  const compilingPerSecond = Math.round((compilingCalls / compilingMs) * 1000)
  const name = 'validation: five-field schema'
  return [
    {
      benchmark: name,
      metric: 'valid inputs, cached validator',
      value: validPerSecond,
      unit: 'ops/s',
      target: '>= 200,000 ops/s',
      meetsTarget: validPerSecond >= 200_000,
    },
    {
      benchmark: name,
      metric: 'invalid inputs (error text built), cached',
      value: invalidPerSecond,
      unit: 'ops/s',
    },
    { benchmark: name, metric: 'valid inputs, compiling per call', value: compilingPerSecond, unit: 'ops/s' },
    {
      benchmark: name,
      metric: 'cached / compiling per call',
      value: Number((validPerSecond / compilingPerSecond).toFixed(0)),
      unit: 'x',
    },
  ]
}

await runIfMain(import.meta.url, benchmark)
