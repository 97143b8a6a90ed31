import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { InvalidOptionError } from '@vllm-tito/spec'
import { afterAll, describe, expect, test } from 'vitest'
import { InvalidEventError } from '../agent-lightning-errors'
import { emitRewardSpan, rewardSpanAttributes } from './emit-reward-span'
import { agentLightningResourceAttributes, createStoreSpanExporter } from './store-span-exporter'

const memory = new InMemorySpanExporter()
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] })
const tracer = provider.getTracer('test')

afterAll(() => provider.shutdown())

describe('rewardSpanAttributes', () => {
  test('the primary reward as emit_reward(float) flattens it', () => {
    expect(rewardSpanAttributes(0.5)).toEqual({
      'agentlightning.reward.0.name': 'primary',
      'agentlightning.reward.0.value': 0.5,
    })
  })

  test.each([
    [Number.NaN, {}, 'emitRewardSpan: the reward must be a finite number, got NaN'],
    [true, {}, 'emitRewardSpan: the reward must be a finite number, got true'],
    [
      1,
      { speed: Number.POSITIVE_INFINITY },
      'emitRewardSpan: reward dimension "speed" must be a finite number, got Infinity',
    ],
    [1, { primary: 1 }, 'emitRewardSpan: a reward dimension may not be named "primary"'],
  ])('%s with dimensions %j is refused', (value, dimensions, message) => {
    const attempt = () => rewardSpanAttributes(value as number, dimensions as Record<string, number>)
    expect(attempt).toThrow(InvalidEventError)
    expect(attempt).toThrow(message)
  })
})

describe('emitRewardSpan', () => {
  test('one ended span with the reward and the extra attributes, returned to the caller', () => {
    memory.reset()
    const span = emitRewardSpan(0.75, { tracer, attributes: { 'agentlightning.tag.0': 'final' } })
    const [finished] = memory.getFinishedSpans()
    expect(memory.getFinishedSpans()).toHaveLength(1)
    expect(finished?.name).toBe('agentlightning.annotation')
    expect(finished?.spanContext().spanId).toBe(span.spanContext().spanId)
    expect(finished?.attributes).toEqual({
      'agentlightning.tag.0': 'final',
      'agentlightning.reward.0.name': 'primary',
      'agentlightning.reward.0.value': 0.75,
    })
    expect(finished?.status).toEqual({ code: 1 })
  })

  test.each([
    [
      { attributes: { 'agentlightning.reward.0.value': 2 } },
      'emitRewardSpan: attribute "agentlightning.reward.0.value" would clash with the reward or break Agent Lightning\'s adapter',
    ],
    [
      { attributes: { 'gen_ai.request': 'x' } },
      'emitRewardSpan: attribute "gen_ai.request" would clash with the reward or break Agent Lightning\'s adapter',
    ],
    [{ tracer: {} }, 'emitRewardSpan: option `tracer` must be an OpenTelemetry Tracer, got an object'],
    [
      { dimension: {} },
      'emitRewardSpan: unknown option `dimension` (did you mean `dimensions`?); known options: dimensions, attributes, tracer',
    ],
  ])('options %j are refused with InvalidOptionError', (options, message) => {
    const attempt = () => emitRewardSpan(1, options as never)
    expect(attempt).toThrow(InvalidOptionError)
    expect(attempt).toThrow(message)
  })

  test('without a tracer and no registered provider it writes nothing and does not throw', () => {
    memory.reset()
    expect(emitRewardSpan(1).isRecording()).toBe(false)
    expect(memory.getFinishedSpans()).toEqual([])
  })
})

describe('resource attributes and the store exporter options', () => {
  test('the two resource attributes', () => {
    expect(agentLightningResourceAttributes({ rolloutId: 'r', attemptId: '0' })).toEqual({
      'agentlightning.rollout_id': 'r',
      'agentlightning.attempt_id': '0',
    })
  })

  test.each([
    [
      { rolloutId: '', attemptId: '0' },
      'agentLightningResourceAttributes: option `rolloutId` must be a string, got the string ""',
    ],
    [{ rolloutId: 'r' }, 'agentLightningResourceAttributes: option `attemptId` is required (a string)'],
    [
      { rolloutId: 'r', attemptId: 0 },
      'agentLightningResourceAttributes: option `attemptId` must be a string, got 0',
    ],
  ])('%j is refused', (ids, message) => {
    expect(() => agentLightningResourceAttributes(ids as never)).toThrow(message)
  })

  test.each([
    [{}, 'createStoreSpanExporter: option `storeUrl` is required (a string)'],
    [
      { storeUrl: 'localhost:4747' },
      'createStoreSpanExporter: option `storeUrl` must be an http(s) URL without query, got "localhost:4747"',
    ],
    [{ storeUrl: 'not a url' }, 'createStoreSpanExporter: option `storeUrl` must be a URL, got "not a url"'],
    [
      { storeUrl: 'http://h', headers: { authorization: 1 } },
      'createStoreSpanExporter: header `authorization` must be a string',
    ],
    [
      { storeUrl: 'http://h', timeoutMillis: 0 },
      'createStoreSpanExporter: option `timeoutMillis` must be an integer >= 1, got 0',
    ],
  ])('exporter options %j are refused', (options, message) => {
    const attempt = () => createStoreSpanExporter(options as never)
    expect(attempt).toThrow(InvalidOptionError)
    expect(attempt).toThrow(message)
  })
})
