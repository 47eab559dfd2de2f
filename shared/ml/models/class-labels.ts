import type { OnnxGraphBuilder } from '../onnx/builder.js';

/**
 * Class labels of a classification target: a stable order (numeric labels by value, others by code
 * unit, so '2' comes before '10' and the order never depends on the locale) and each row's index.
 */
export interface EncodedLabels {
  classes: readonly string[];
  /** Each row's index into `classes`. */
  codes: Int32Array;
}

const NUMERIC = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The order of class labels in every model of this folder (numbers by value, others by code unit). */
export function compareLabels(a: string, b: string): number {
  if (NUMERIC.test(a) && NUMERIC.test(b)) {
    const d = Number(a) - Number(b);
    if (d !== 0) return d;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Encodes string labels; throws a RangeError naming `y` when there are fewer than two classes. */
export function encodeLabels(y: readonly string[]): EncodedLabels {
  const classes = [...new Set(y)].sort(compareLabels);
  if (classes.length < 2) {
    throw new RangeError(`y must hold at least two classes for classification; got ${classes.length}`);
  }
  const index = new Map(classes.map((c, i) => [c, i]));
  const codes = new Int32Array(y.length);
  for (let i = 0; i < y.length; i++) codes[i] = index.get(y[i] as string) as number;
  return { classes, codes };
}

/** Row-wise argmax of a row-major [rows, k] matrix; ties go to the first (lowest) index, as ONNX ArgMax. */
export function argmaxRows(values: Float64Array, rows: number, k: number): Float64Array {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const off = r * k;
    let best = 0;
    let bestValue = values[off] as number;
    for (let j = 1; j < k; j++) {
      const v = values[off + j] as number;
      if (v > bestValue) {
        bestValue = v;
        best = j;
      }
    }
    out[r] = best;
  }
  return out;
}

/**
 * The graph's label of each row: ArgMax over a float [N, k] probability tensor (ties to the first
 * class, as argmaxRows) gathered from the class names; returns the string [N] tensor `label`.
 */
export function exportLabel(
  g: OnnxGraphBuilder,
  probabilities: string,
  classes: readonly string[],
  label: string = g.fresh('label'),
): string {
  const index = g.node('ArgMax', [probabilities], [g.fresh('class_index')], { axis: { i: 1 }, keepdims: { i: 0 } });
  const names = g.constant('class_names', { type: 'string', dims: [classes.length], data: [...classes] });
  g.node('Gather', [names, index[0] as string], [label], { axis: { i: 0 } });
  return label;
}
