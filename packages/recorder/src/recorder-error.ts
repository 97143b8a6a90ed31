import { hasErrorMarker, VLLMTitoError } from '@vllm-tito/spec'

const recorderErrorSymbol = Symbol.for('vllm-tito.error.recorder')

/**
 * Where a {@link RecorderError} came from:
 * - `record`: a token record (given to `record()`, found in a message-stop event or read from a file) is
 *   malformed;
 * - `span`: the span writer failed; `sink`: the sink failed; `observer`: an observer threw.
 *
 * Bad options are not recorder errors: they throw spec's `InvalidOptionError`, as in every package.
 */
export type RecorderErrorSource = 'record' | 'span' | 'sink' | 'observer'

/**
 * An error of the recorder package. Invalid records passed to `record()` are thrown; failures
 * of side effects (span writer, sink, observers) never interrupt recording: the record stays in the history
 * and the error is reported through the recorder's `onError` and kept on `recorder.errors`.
 */
export class RecorderError extends VLLMTitoError {
  readonly [recorderErrorSymbol] = true
  override readonly name: string = 'RecorderError'
  /** Which part failed. */
  readonly source: RecorderErrorSource

  constructor(message: string, options: { source: RecorderErrorSource; cause?: unknown }) {
    super(message, { cause: options.cause })
    this.source = options.source
  }

  /** `true` for a {@link RecorderError} from any installed copy of this package. */
  static override isInstance(error: unknown): error is RecorderError {
    return hasErrorMarker(error, recorderErrorSymbol)
  }
}

/** The message of an unknown thrown value, for error texts. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
