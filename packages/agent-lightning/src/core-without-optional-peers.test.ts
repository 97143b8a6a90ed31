import { expect, test, vi } from 'vitest'

// as if neither optional peer were installed: any import of them fails the way a missing package does
vi.mock('@opentelemetry/api', () => {
  throw new Error("Cannot find package '@opentelemetry/api'")
})
vi.mock('@opentelemetry/exporter-trace-otlp-proto', () => {
  throw new Error("Cannot find package '@opentelemetry/exporter-trace-otlp-proto'")
})

test('the main entry imports and reads the environment with no OpenTelemetry package installed', async () => {
  const main = await import('./index')
  const rollout = main.agentLightningFromEnv({
    AGL_OPENAI_BASE_URL: 'http://g:8080/proxy/rollout/r/attempt/0/mode/val/openai/v1',
    AGL_EVENT_URL: 'http://g:8080/api/rollouts/r/attempt/0/events',
    AGL_KEY: 'k',
  })
  expect(rollout.mode).toBe('val')
  expect(rollout.rolloutId).toBe('r')
})

test('control: the mocks really stand in for missing packages (the otel subpath fails to load)', async () => {
  const error = await import('./otel/index').then(
    () => undefined,
    (failure: unknown) => failure as Error,
  )
  expect((error?.cause as Error | undefined)?.message).toMatch(/^Cannot find package '@opentelemetry\//)
})
