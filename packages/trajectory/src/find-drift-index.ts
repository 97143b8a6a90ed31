/**
 * The first position at which two id sequences differ: `-1` when they are equal; when one is a proper
 * prefix of the other, the length of the shorter one (the first position only the longer one has).
 *
 * @example
 * findDriftIndex([1, 2, 3], [1, 2, 4]) // 2
 * findDriftIndex([1, 2], [1, 2, 3])    // 2
 * findDriftIndex([1, 2], [1, 2])       // -1
 */
export function findDriftIndex(left: readonly number[], right: readonly number[]): number {
  let index = 0
  // past the end of the shorter one, undefined differs from every id
  while (index < left.length && left[index] === right[index]) index += 1
  return index === left.length && index === right.length ? -1 : index
}
