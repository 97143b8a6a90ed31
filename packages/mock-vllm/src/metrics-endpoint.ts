import type { MockContext } from './mock-context'

/** Tokens the engine processed since the server started, as vLLM's Prometheus counters count them. */
export interface TokenCounters {
  /**
   * Prompt tokens of every generation that started. A request with `n` choices counts its prompt `n` times:
   * vLLM's engine runs one child request per choice, each with the whole prompt.
   */
  promptTokens: number
  /** Every id sampled for a choice, the stop token included, whether or not it reached the client. */
  generationTokens: number
}

/** Prometheus label values escape backslash, double quote and newline (text exposition format 0.0.4). */
function labelValue(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')
}

/**
 * `GET /metrics`: vLLM's two token counters in the Prometheus text format, named, documented and labelled as
 * vLLM's `PrometheusStatLogger` declares them (`vllm:prompt_tokens`, `vllm:generation_tokens`, labels
 * `model_name` and `engine`; prometheus_client adds `_total` to a counter and prints values as floats). A
 * caller compares the ids it received with the ids the server sampled: the difference of two scrapes.
 */
export function metricsText(context: MockContext): string {
  const labels = `{model_name="${labelValue(context.model)}",engine="0"}`
  const counter = (name: string, help: string, value: number) =>
    `# HELP ${name}_total ${help}\n# TYPE ${name}_total counter\n${name}_total${labels} ${value.toFixed(1)}\n`
  return (
    counter('vllm:prompt_tokens', 'Number of prefill tokens processed.', context.counters.promptTokens) +
    counter(
      'vllm:generation_tokens',
      'Number of generation tokens processed.',
      context.counters.generationTokens,
    )
  )
}
