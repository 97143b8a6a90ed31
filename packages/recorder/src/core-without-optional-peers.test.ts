import { toResponseFields } from '@vllm-tito/spec'
import { makeRecord } from '@vllm-tito/spec/testing'
import { expect, test, vi } from 'vitest'
import { callEnd, extractTestStop } from './__fixtures__/test-events'

// as if neither optional peer were installed: any import of them fails the way a missing package does
vi.mock('@opentelemetry/api', () => {
  throw new Error("Cannot find package '@opentelemetry/api'")
})
vi.mock('@strands-agents/sdk', () => {
  throw new Error("Cannot find package '@strands-agents/sdk'")
})

test('the core entry imports and records with neither OpenTelemetry nor Strands installed', async () => {
  const core = await import('./index')
  const sink = new core.MemorySink()
  const recorder = new core.TokenRecorder({ rolloutId: 'r', sink, extractMessageStop: extractTestStop })
  expect(recorder.addToSpan).toBe(true)
  expect(recorder.spanWriter).toBeUndefined()
  const record = makeRecord()
  recorder.handle(callEnd(toResponseFields(record)))
  expect(recorder.history).toEqual([record])
  expect(sink.entries).toEqual([{ rolloutId: 'r', callIndex: 0, record }])
  expect(recorder.errors).toEqual([])
})

test('control: the mocks really stand in for missing packages (the subpaths that need them fail)', async () => {
  const causeOf = async (load: () => Promise<unknown>) => {
    const error = await load().then(
      () => undefined,
      (failure: unknown) => failure as Error,
    )
    return (error?.cause as Error | undefined)?.message
  }
  expect(await causeOf(() => import('./otel/index'))).toBe("Cannot find package '@opentelemetry/api'")
  expect(await causeOf(() => import('./strands/index'))).toBe("Cannot find package '@strands-agents/sdk'")
})
