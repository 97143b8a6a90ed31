// Runs one benchmark module in its own process (so benchmarks never share a heap or JIT state) and writes its
// figures as JSON to the path given. Used by bench/run.ts.
import { writeFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import type { Benchmark } from './figures'

const [modulePath, outputPath, ...flags] = process.argv.slice(2)
if (!modulePath || !outputPath)
  throw new Error('usage: run-one.ts <benchmark module> <output json> [--quick]')
const module = (await import(pathToFileURL(modulePath).href)) as { default: Benchmark }
const figures = await module.default({ quick: flags.includes('--quick') })
writeFileSync(outputPath, JSON.stringify(figures))
