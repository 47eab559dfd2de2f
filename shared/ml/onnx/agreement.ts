/**
 * How a TypeScript model and its ONNX graph are held to each other (trainer checks, tests,
 * benchmarks): the largest relative difference |a - b| / max(1, |a|) over their outputs, where
 * NaN agrees only with NaN.
 */
export function largestRelativeDifference(want: ArrayLike<number>, got: ArrayLike<number>): number {
  if (want.length !== got.length) {
    throw new RangeError(`the outputs differ in length: ${want.length} expected, ${got.length} from the graph`);
  }
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const a = want[i] as number;
    const b = got[i] as number;
    if (Number.isNaN(a) || Number.isNaN(b)) {
      if (Number.isNaN(a) !== Number.isNaN(b)) return Number.POSITIVE_INFINITY;
      continue;
    }
    worst = Math.max(worst, Math.abs(a - b) / Math.max(1, Math.abs(a)));
  }
  return worst;
}
