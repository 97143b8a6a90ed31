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
  const shared = Math.min(left.length, right.length)
  for (let index = 0; index < shared; index += 1) {
    if (left[index] !== right[index]) return index
  }
  return left.length === right.length ? -1 : shared
}
