import { InvalidOptionError } from '@vllm-tito/spec'
import { describe, expect, it } from 'vitest'
import { catchError, recordOf } from './__fixtures__/records'
import { classifyPrefixBreak } from './classify-prefix-break'
import { TokenManager } from './token-manager'
import { buildTrajectory, TrajectoryBuilder } from './trajectory-builder'

function optionError(action: () => unknown): InvalidOptionError {
  const error = catchError(action)
  expect(InvalidOptionError.isInstance(error)).toBe(true)
  return error as InvalidOptionError
}

describe('options are checked at runtime (a JavaScript or YAML config gets a typed error, never a default)', () => {
  it('a misspelt builder option names the option, the closest known name and every known one', () => {
    // what a YAML or JSON config produces: plain data, no type checking
    const config = JSON.parse('{"onBrake": "throw"}') as object
    const error = optionError(() => new TrajectoryBuilder(config))
    expect(error.where).toBe('new TrajectoryBuilder')
    expect(error.option).toBe('onBrake')
    expect(error.message).toBe(
      'new TrajectoryBuilder: unknown option `onBrake` (did you mean `onBreak`?); known options: onBreak, unverified, strictLogprobs, specialTokenIds, tokenizer',
    )
  })

  it('a value outside the allowed ones lists them', () => {
    const error = optionError(() => buildTrajectory([], { onBreak: 'merge' as never }))
    expect(error.option).toBe('onBreak')
    expect(error.allowed).toEqual(['new-sequence', 'throw', 'merge-lossy'])
    expect(error.message).toBe(
      "new TrajectoryBuilder: option `onBreak` must be one of 'new-sequence', 'throw', 'merge-lossy', got the string \"merge\"",
    )
    expect(optionError(() => new TrajectoryBuilder({ unverified: 'keep' as never })).allowed).toEqual([
      'exclude',
      'flag',
      'throw',
    ])
    expect(optionError(() => new TrajectoryBuilder({ strictLogprobs: 'yes' as never })).message).toBe(
      'new TrajectoryBuilder: option `strictLogprobs` must be `true` or `false`, got the string "yes"',
    )
  })

  it('specialTokenIds must be a non-empty Set or array of token ids', () => {
    expect(optionError(() => new TrajectoryBuilder({ specialTokenIds: [100, -1] })).message).toBe(
      'new TrajectoryBuilder: option `specialTokenIds` holds -1, not a token id (an integer from 0 to 4294967295)',
    )
    expect(optionError(() => new TrajectoryBuilder({ specialTokenIds: 'qwen3' as never })).message).toBe(
      'new TrajectoryBuilder: option `specialTokenIds` must be a Set or an array of token ids, e.g. QWEN3_SPECIAL_TOKEN_IDS',
    )
    expect(optionError(() => new TrajectoryBuilder({ specialTokenIds: new Set() })).message).toBe(
      'new TrajectoryBuilder: option `specialTokenIds` is empty; leave it out instead',
    )
  })

  it('merge-lossy needs the special-token ids it aligns on; a tokenizer needs decode', () => {
    const error = optionError(() => new TrajectoryBuilder({ onBreak: 'merge-lossy' }))
    expect(error.option).toBe('onBreak')
    expect(error.message).toBe(
      "new TrajectoryBuilder: option `onBreak: 'merge-lossy'` needs `specialTokenIds` (e.g. QWEN3_SPECIAL_TOKEN_IDS): it aligns on the previous turn's closing special token",
    )
    expect(optionError(() => new TrajectoryBuilder({ tokenizer: {} as never })).message).toBe(
      'new TrajectoryBuilder: option `tokenizer` must be an object with a decode(ids) method, got an object',
    )
  })

  it('TokenManager and classifyPrefixBreak check theirs too', () => {
    expect(optionError(() => new TokenManager({ stric: true } as never)).message).toBe(
      'new TokenManager: unknown option `stric` (did you mean `strict`?); known options: strict',
    )
    expect(optionError(() => new TokenManager({ strict: 1 as never })).option).toBe('strict')
    expect(optionError(() => classifyPrefixBreak([1], [2], { tokeniser: {} } as never)).where).toBe(
      'classifyPrefixBreak',
    )
  })
})

describe('model-family special-token ids are explicit', () => {
  // 100 = <|im_start|>, 101 = <|im_end|>, 102/103 = <think>/</think>; turn 0 thought, turn 1's prompt dropped it
  const prompt = [100, 1, 101, 100]
  const thinkingResponse = [102, 5, 103, 6, 101]
  const strippedPrompt = [...prompt, 6, 101, 7, 100]
  const tokenizer = { decode: (ids: readonly number[]) => ids.map((id) => `<${id}>`).join('') }

  it('without them a dropped think block is not guessed to be a template break; the detail says why', () => {
    const trajectory = buildTrajectory([
      recordOf(prompt, thinkingResponse),
      recordOf(strippedPrompt, [8, 101]),
    ])
    expect(trajectory.breaks.map((finding) => [finding.kind, finding.detail])).toEqual([
      [
        'other',
        'different ids; no tokenizer given to compare the decoded text; no specialTokenIds given, so a template change is not detected',
      ],
    ])
    const decoded = classifyPrefixBreak([...prompt, ...thinkingResponse], strippedPrompt, { tokenizer })
    expect(decoded?.kind).toBe('other')
    expect(decoded?.detail).toBe(
      'the decoded text differs from character 19: history was edited, trimmed or re-serialised; no specialTokenIds given, so a template change is not detected',
    )
  })

  it('with them the same break is template, and merge-lossy can align on the closing token', () => {
    const records = [recordOf(prompt, thinkingResponse), recordOf(strippedPrompt, [8, 101])]
    const specialTokenIds = [100, 101, 102, 103]
    expect(buildTrajectory(records, { specialTokenIds }).breaks[0]!.kind).toBe('template')
    const merged = buildTrajectory(records, { specialTokenIds, onBreak: 'merge-lossy' })
    expect(merged.metrics.lossyMerges).toBe(1)
  })
})
