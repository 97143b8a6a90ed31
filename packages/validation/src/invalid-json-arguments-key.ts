/**
 * The key under which a provider hands over tool-call arguments that are not valid JSON:
 * `{ "__vllm_invalid_json_arguments__": "<raw arguments text>" }`.
 *
 * The Strands SDK parses tool input with `JSON.parse` and aborts the whole invocation on malformed JSON,
 * so `VLLMModel` wraps the raw text in this object instead. The validation hooks recognise an input that is
 * exactly this wrapper (one own key, a string value) and answer `tool input is not valid JSON`, as the Python
 * `strands-vllm` hooks do for unparsable string input.
 */
export const INVALID_JSON_ARGUMENTS_KEY = '__vllm_invalid_json_arguments__'
