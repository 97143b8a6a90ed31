import { type ChatMessage, type RenderedChatTemplate, sameIds, startsWithIds } from '@vllm-tito/spec'
import { TokenInError } from './token-in-error'

/** What token-in mode relies on about a chat template, learnt by rendering a probe conversation. */
export interface ChatTemplateShape {
  /** The end-of-turn token (`<|im_end|>`): the model's stop token, and what closes every rendered turn. */
  endOfTurnId: number
  /** What the template writes after an end-of-turn token before the next turn (Qwen: `\n`). */
  separatorIds: number[]
  /**
   * Whether a tool result renders the same after a user turn as after the assistant turn that called the tool
   * (Qwen's templates: yes). Then tool results are rendered after the same fixed prefix as user turns, whose
   * rendering is reused; otherwise after a prefix that calls those tools, rendered each time.
   */
  toolResultsStandAlone: boolean
}

/** Renders a conversation with the server's chat template (no tools, the call's template arguments). */
export type ProbeRenderer = (
  messages: ChatMessage[],
  addGenerationPrompt: boolean,
) => Promise<RenderedChatTemplate>

const PROBE_TEXT = 'probe'
const PROBE_TOOL = 'probe_tool'
const END_OF_TURN = '<|im_end|>'
const USER_TURN = `<|im_start|>user\n${PROBE_TEXT}${END_OF_TURN}\n`
/**
 * The assistant turn of the probe as hermes-style ChatML templates (Qwen2.5, Qwen3, QwQ) render it: a think
 * block for Qwen3 (empty, or the empty one of `enable_thinking: false`), the content, the call as
 * `<tool_call>` JSON, the end-of-turn token and a newline.
 */
const ASSISTANT_TURN = new RegExp(
  `^<\\|im_start\\|>assistant\\n(?:<think>\\n\\n</think>\\n\\n)?${PROBE_TEXT}\\n<tool_call>\\n\\{"name": "${PROBE_TOOL}", "arguments": \\{\\}\\}\\n</tool_call><\\|im_end\\|>\\n$`,
)

const SUPPORTED =
  'token-in mode supports ChatML chat templates with hermes tool calls (Qwen2.5, Qwen3, QwQ and their fine-tunes)'

/**
 * Renders `[user]` and `[user, assistant with a tool call]` (with the token pieces) and checks that the
 * template is one token-in mode handles exactly: an assistant turn appends to what came before, is written
 * as ChatML with a hermes `<tool_call>`, and ends with the single token `<|im_end|>` followed by a newline.
 * Also renders a tool result after each of the two, to learn whether it depends on the call before it. The
 * four renders run in parallel.
 *
 * @throws TokenInError (`unsupported-template`) saying what the template rendered instead.
 */
export async function probeChatTemplate(render: ProbeRenderer): Promise<ChatTemplateShape> {
  const user: ChatMessage = { role: 'user', content: PROBE_TEXT }
  const assistant: ChatMessage = {
    role: 'assistant',
    content: PROBE_TEXT,
    tool_calls: [{ id: 'probe-call', type: 'function', function: { name: PROBE_TOOL, arguments: '{}' } }],
  }
  const result: ChatMessage = { role: 'tool', tool_call_id: 'probe-call', content: PROBE_TEXT }
  const [userOnly, withAssistant, afterCall, afterUser] = await Promise.all([
    render([user], false),
    render([user, assistant], false),
    render([user, assistant, result], false),
    render([user, result], false),
  ])
  const userPieces = piecesOf(userOnly)
  const userText = byteLevelText(userPieces)
  if (!userText.endsWith(USER_TURN)) {
    const shown = userText.length > 80 ? `…${userText.slice(-80)}` : userText
    throw refusal(`a user turn renders as ${JSON.stringify(shown)}, not ChatML`)
  }
  const endOfTurnPosition = userPieces.lastIndexOf(END_OF_TURN)
  if (endOfTurnPosition < 0) {
    throw refusal(`\`${END_OF_TURN}\` is not a single token of this tokenizer`)
  }
  const kept = userOnly.tokenIds
  const extended = withAssistant.tokenIds
  if (!startsWithIds(extended, kept)) {
    throw refusal('adding an assistant turn changes how the turns before it render')
  }
  const assistantText = byteLevelText(piecesOf(withAssistant).slice(kept.length))
  if (!ASSISTANT_TURN.test(assistantText)) {
    throw refusal(`an assistant turn with a tool call renders as ${JSON.stringify(assistantText)}`)
  }
  const endOfTurnId = kept[endOfTurnPosition]!
  // the turns before the result may render differently once it follows (Qwen3 drops the empty think block of
  // an assistant turn that is no longer the last), so the results are compared after the turns' closings
  const resultAfterCall = afterTurns(afterCall.tokenIds, count(extended, endOfTurnId), endOfTurnId)
  const resultAfterUser = afterTurns(afterUser.tokenIds, count(kept, endOfTurnId), endOfTurnId)
  return {
    endOfTurnId,
    separatorIds: kept.slice(endOfTurnPosition + 1),
    toolResultsStandAlone: resultAfterCall.length > 0 && sameIds(resultAfterCall, resultAfterUser),
  }
}

function count(ids: readonly number[], id: number): number {
  return ids.filter((candidate) => candidate === id).length
}

/** The ids after the `turns`-th `endOfTurnId` (empty when there are fewer). */
function afterTurns(ids: readonly number[], turns: number, endOfTurnId: number): number[] {
  let seen = 0
  const position = ids.findIndex((id) => id === endOfTurnId && ++seen === turns)
  return position < 0 ? [] : ids.slice(position + 1)
}

function refusal(found: string): TokenInError {
  return new TokenInError(
    'unsupported-template',
    `${SUPPORTED}; this model's template does not fit: ${found}`,
  )
}

function piecesOf(rendered: RenderedChatTemplate): string[] {
  if (rendered.tokenStrings === null || rendered.tokenStrings.length !== rendered.tokenIds.length) {
    throw new TokenInError(
      'unsupported-template',
      'the server sent no token strings (`token_strs`) for the probe rendered with `/tokenize`, so the template cannot be checked',
    )
  }
  return rendered.tokenStrings
}

let byteTable: Map<string, number> | undefined

/**
 * The text of byte-level BPE pieces (GPT-2's alphabet, which Qwen's tokenizer uses: `Ġ` is a space, `Ċ` a
 * newline). Printable ASCII stands for itself in that alphabet, so added tokens such as `<|im_end|>` read as
 * they are written. Characters outside the alphabet are kept, so the pieces of another kind of tokenizer read
 * as text that fails the checks.
 */
function byteLevelText(pieces: readonly string[]): string {
  byteTable ??= gpt2ByteTable()
  const table = byteTable
  const encoder = new TextEncoder()
  const bytes: number[] = []
  for (const piece of pieces) {
    for (const character of piece) {
      const byte = table.get(character)
      if (byte !== undefined) bytes.push(byte)
      else bytes.push(...encoder.encode(character))
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes))
}

/** GPT-2's byte-to-character table, inverted: the byte each printable character of a BPE piece stands for. */
function gpt2ByteTable(): Map<string, number> {
  const printable: number[] = []
  for (let code = 33; code <= 126; code += 1) printable.push(code)
  for (let code = 161; code <= 172; code += 1) printable.push(code)
  for (let code = 174; code <= 255; code += 1) printable.push(code)
  const table = new Map<string, number>()
  for (const byte of printable) table.set(String.fromCharCode(byte), byte)
  let extra = 0
  for (let byte = 0; byte < 256; byte += 1) {
    if (printable.includes(byte)) continue
    table.set(String.fromCharCode(256 + extra), byte)
    extra += 1
  }
  return table
}
