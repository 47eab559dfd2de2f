/**
 * Quantile binning for histogram gradient boosting: each feature's float32 values fall into at most
 * 255 bins, plus one bin for NaN after them (code = the feature's bin count, above every split bin,
 * so missing values go right as in ONNX). A bin is bounded above by a float32 edge, the float32 midpoint
 * between the largest value inside it and the smallest value of the next bin, and the last bin by
 * +Infinity, so "bin ≤ b" is the same test as `Math.fround(x) <= edge[b]` for every value: the
 * threshold ONNX compares against.
 */
import { float32Midpoint } from './tree.js';

/** Most non-missing bins a feature may have. */
export const MAX_BINS = 255;

/**
 * The upper edges of one feature's bins, from its float32 values at `rows`: every distinct value
 * gets a bin when there are at most `maxBin`, otherwise bins hold about equal row counts (a
 * distinct value never straddles two bins). The last edge is +Infinity: splitting there sends
 * every number left and only NaN right.
 */
export function binEdges(column: Float32Array, rows: Int32Array, maxBin: number): Float32Array {
  const values = new Float32Array(rows.length);
  let n = 0;
  for (let i = 0; i < rows.length; i++) {
    const v = column[rows[i] as number] as number;
    if (!Number.isNaN(v)) values[n++] = v;
  }
  const sorted = values.subarray(0, n).sort();
  const distinct: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = sorted[i] as number;
    if (distinct.length > 0 && distinct[distinct.length - 1] === v)
      counts[counts.length - 1] = (counts[counts.length - 1] as number) + 1;
    else {
      distinct.push(v);
      counts.push(1);
    }
  }
  const d = distinct.length;
  if (d === 0) return new Float32Array(0);
  // Index of the last distinct value in each bin.
  const lastOfBin: number[] = [];
  if (d <= maxBin) {
    for (let i = 0; i < d; i++) lastOfBin.push(i);
  } else {
    let cumulative = 0;
    for (let i = 0; i < d; i++) {
      cumulative += counts[i] as number;
      const remainingBins = maxBin - lastOfBin.length;
      const remainingValues = d - i - 1;
      // Close the bin when it reaches its quantile share, or when every later value needs a bin of its own.
      if (i === d - 1 || cumulative >= ((lastOfBin.length + 1) * n) / maxBin || remainingValues < remainingBins) {
        if (lastOfBin.length < maxBin - 1 || i === d - 1) lastOfBin.push(i);
      }
    }
  }
  const edges = new Float32Array(lastOfBin.length);
  for (let b = 0; b < lastOfBin.length; b++) {
    const last = lastOfBin[b] as number;
    edges[b] = last === d - 1 ? Infinity : float32Midpoint(distinct[last] as number, distinct[last + 1] as number);
  }
  return edges;
}

/** The bin of a float32 value: the first bin whose edge is ≥ v; NaN → edges.length. */
export function binOf(edges: Float32Array, v: number): number {
  if (Number.isNaN(v) || edges.length === 0) return edges.length;
  let lo = 0;
  let hi = edges.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((edges[mid] as number) >= v) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Row-major [rows][cols] bin codes of the column-major float32 `columns` ([cols][rows]). */
export function binCodes(columns: Float32Array, rows: number, edges: readonly Float32Array[]): Uint8Array {
  const cols = edges.length;
  const codes = new Uint8Array(columns.length);
  edges.forEach((e, f) => {
    for (let i = 0; i < rows; i++) codes[i * cols + f] = binOf(e, columns[f * rows + i] as number);
  });
  return codes;
}
