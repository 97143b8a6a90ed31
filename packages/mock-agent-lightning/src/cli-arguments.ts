import { parseArgs } from 'node:util'
import type { MockAgentLightningOptions } from './mock-agent-lightning-options'

/** Usage text of the `mock-agent-lightning` command. */
export const cliUsage = `Usage: mock-agent-lightning [options]

  --host <host>                 interface to listen on (default 127.0.0.1)
  --port <port>                 port (default 8080, as agl-server; 0 picks a free port)
  --key <key>                   API key (default empty: authentication off)
  --model-name <name>           default_proxy.model_name (default Qwen/Qwen3-8B)
  --train-temperature <t>       default_proxy.train.temperature (default 1)
  --val-temperature <t>         default_proxy.val.temperature (default 0.7)
  --no-log-probs                default_proxy.include_log_probs = false
  --model <endpoint>            register a model server for --model-name, e.g. http://127.0.0.1:8000/v1
                                (repeatable; same as POST /api/models)
  --help                        print this text`

/** Parses `mock-agent-lightning` arguments; throws a TypeError naming a bad flag. */
export function parseCliArguments(argv: string[]): MockAgentLightningOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      key: { type: 'string' },
      'model-name': { type: 'string' },
      'train-temperature': { type: 'string' },
      'val-temperature': { type: 'string' },
      'no-log-probs': { type: 'boolean' },
      model: { type: 'string', multiple: true },
      help: { type: 'boolean' },
    },
  })
  if (values.help) return 'help'
  const number = (flag: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined
    const value = Number(text)
    if (text.trim() === '' || !Number.isFinite(value))
      throw new TypeError(`--${flag} must be a number, got ${text}`)
    return value
  }
  const modelName = values['model-name'] ?? 'Qwen/Qwen3-8B'
  const options: MockAgentLightningOptions = {
    host: values.host ?? '127.0.0.1',
    port: number('port', values.port) ?? 8080,
    key: values.key ?? '',
    modelName,
    models: (values.model ?? []).map((endpoint) => ({ model: modelName, endpoint })),
  }
  const trainTemperature = number('train-temperature', values['train-temperature'])
  const valTemperature = number('val-temperature', values['val-temperature'])
  if (trainTemperature !== undefined) options.trainTemperature = trainTemperature
  if (valTemperature !== undefined) options.valTemperature = valTemperature
  if (values['no-log-probs']) options.includeLogProbs = false
  return options
}
