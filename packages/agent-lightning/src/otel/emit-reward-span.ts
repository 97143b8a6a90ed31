import { type Attributes, type Span, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api'
import { describeValue, OptionReader } from '@vllm-tito/spec'
import { InvalidEventError } from '../agent-lightning-errors'
import {
  AGL_ANNOTATION_SPAN_NAME,
  PRIMARY_REWARD_NAME,
  REWARD_ATTRIBUTE_PREFIX,
  UNFLATTENED_PREFIXES,
} from './span-contract'

/** The instrumentation scope of the spans this subpath creates. */
export const AGENT_LIGHTNING_TRACER_NAME = '@vllm-tito/agent-lightning'

/** Options of {@link emitRewardSpan}. */
export interface RewardSpanOptions {
  /** More reward dimensions after the primary one, in order (`agentlightning.reward.1.*`, …). */
  dimensions?: Record<string, number>
  /** Further span attributes; none may start with `agentlightning.reward` or be a bare unflattened prefix. */
  attributes?: Attributes
  /** The tracer. Default: `trace.getTracer('@vllm-tito/agent-lightning')` from the global provider. */
  tracer?: Tracer
}

/**
 * The attributes of an Agent Lightning 0.x reward: `agentlightning.reward.0.name = "primary"`,
 * `agentlightning.reward.0.value = value`, then one name/value pair per extra dimension — what
 * `emit_reward()` writes after flattening its reward list.
 *
 * @throws InvalidEventError for a value (or dimension) that is not a finite number.
 */
export function rewardSpanAttributes(value: number, dimensions: Record<string, number> = {}): Attributes {
  const entries: Array<[string, unknown]> = [[PRIMARY_REWARD_NAME, value], ...Object.entries(dimensions)]
  const attributes: Attributes = {}
  entries.forEach(([name, entry], index) => {
    if (typeof entry !== 'number' || !Number.isFinite(entry)) {
      const label = index === 0 ? 'the reward' : `reward dimension "${name}"`
      throw new InvalidEventError(
        'value',
        `emitRewardSpan: ${label} must be a finite number, got ${describeValue(entry)}`,
      )
    }
    if (index > 0 && (name === '' || name === PRIMARY_REWARD_NAME)) {
      throw new InvalidEventError('value', `emitRewardSpan: a reward dimension may not be named "${name}"`)
    }
    attributes[`${REWARD_ATTRIBUTE_PREFIX}.${index}.name`] = name
    attributes[`${REWARD_ATTRIBUTE_PREFIX}.${index}.value`] = entry
  })
  return attributes
}

/**
 * Writes the reward as Agent Lightning 0.x expects it: an ended span named `agentlightning.annotation` with
 * status OK and the attributes of {@link rewardSpanAttributes}, in the active context (so it joins the
 * rollout's trace). The adapter assigns it to the latest LLM call that ended before it started, so emit it
 * after the agent's last model call.
 *
 * @throws InvalidEventError for a value that is not a finite number.
 * @throws InvalidOptionError for bad options or attributes that would clash with the reward.
 */
export function emitRewardSpan(value: number, options?: RewardSpanOptions): Span {
  const read = new OptionReader('emitRewardSpan', options).rejectUnknown([
    'dimensions',
    'attributes',
    'tracer',
  ])
  const dimensions = read.object('dimensions') as Record<string, number> | undefined
  const extra = read.object('attributes') as Attributes | undefined
  const tracer =
    read.custom('tracer', 'an OpenTelemetry Tracer', isTracer) ?? trace.getTracer(AGENT_LIGHTNING_TRACER_NAME)
  for (const key of Object.keys(extra ?? {})) {
    if (key.startsWith(REWARD_ATTRIBUTE_PREFIX) || UNFLATTENED_PREFIXES.includes(key)) {
      read.fail(
        'attributes',
        `attribute "${key}" would clash with the reward or break Agent Lightning's adapter`,
      )
    }
  }
  const attributes = { ...extra, ...rewardSpanAttributes(value, dimensions) }
  const span = tracer.startSpan(AGL_ANNOTATION_SPAN_NAME, { kind: SpanKind.INTERNAL, attributes })
  span.setStatus({ code: SpanStatusCode.OK })
  span.end()
  return span
}

function isTracer(value: unknown): value is Tracer {
  return typeof value === 'object' && value !== null && typeof (value as Tracer).startSpan === 'function'
}
