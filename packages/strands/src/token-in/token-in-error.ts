import { hasErrorMarker, VLLMTitoError } from '@vllm-tito/spec'

const tokenInSymbol = Symbol.for('vllm-tito.error.token-in')

/**
 * Why token-in mode refused a call:
 * - `unsupported-template`: the model's chat template is not one the mode can append to exactly (checked at
 *   the first call, by rendering a probe conversation); the message says what was found;
 * - `tool-choice`: the call asks to force a tool (`toolChoice` `any` or a named tool), which a completion from
 *   token ids cannot enforce;
 * - `concurrent-call`: a second call started while one was running on the same model instance, whose one
 *   kept sequence cannot serve two conversations;
 * - `context-length-unknown`: no `maxTokens` is set and the server did not report `max_model_len`, so there
 *   is no safe `max_tokens` to send (`/v1/completions` would stop after 16 tokens).
 */
export type TokenInErrorCode =
  | 'unsupported-template'
  | 'tool-choice'
  | 'concurrent-call'
  | 'context-length-unknown'

/**
 * Token-in mode (`VLLMModel` with `tokenIn`) refused a call rather than guess. A model call raises it as the
 * `cause` of a Strands `ModelError`.
 */
export class TokenInError extends VLLMTitoError {
  readonly [tokenInSymbol] = true
  override readonly name: string = 'TokenInError'
  /** What was refused. */
  readonly code: TokenInErrorCode

  constructor(code: TokenInErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }

  /** `true` for a {@link TokenInError} from any copy of the package. */
  static override isInstance(error: unknown): error is TokenInError {
    return hasErrorMarker(error, tokenInSymbol)
  }
}
