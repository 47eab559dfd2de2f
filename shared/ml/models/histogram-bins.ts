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
  const sorted = sortedValues(column, rows);
  const n = sorted.length;
  if (n === 0) return new Float32Array(0);
  const distinct = new Float32Array(n);
  const counts = new Int32Array(n);
  const d = countDistinct(sorted, distinct, counts);
  // Index of the last distinct value in each bin.
  const lastOfBin = new Int32Array(Math.min(d, maxBin));
  let bins = 0;
  if (d <= maxBin) {
    for (let i = 0; i < d; i++) lastOfBin[bins++] = i;
  } else {
    let cumulative = 0;
    for (let i = 0; i < d; i++) {
      cumulative += counts[i] as number;
      const remainingBins = maxBin - bins;
      const remainingValues = d - i - 1;
      // Close the bin when it reaches its quantile share, or when every later value needs a bin of its own.
      if (i === d - 1 || cumulative >= ((bins + 1) * n) / maxBin || remainingValues < remainingBins) {
        if (bins < maxBin - 1 || i === d - 1) lastOfBin[bins++] = i;
      }
    }
  }
  const edges = new Float32Array(bins);
  for (let b = 0; b < bins; b++) {
    const last = lastOfBin[b] as number;
    edges[b] = last === d - 1 ? Infinity : float32Midpoint(distinct[last] as number, distinct[last + 1] as number);
  }
  return edges;
}

/** The non-NaN values of `column` at `rows`, ascending (−0 before +0, as TypedArray sort). */
function sortedValues(column: Float32Array, rows: Int32Array): Float32Array {
  const values = new Float32Array(rows.length);
  let n = 0;
  for (let i = 0; i < rows.length; i++) {
    const v = column[rows[i] as number] as number;
    if (!Number.isNaN(v)) values[n++] = v;
  }
  return radixSortFloat32(values.subarray(0, n));
}

/**
 * Sorts float32 values (no NaN) by their bits: a float's bits, with the sign bit flipped for
 * positives and every bit flipped for negatives, order as unsigned integers the way the floats
 * do. Three counting passes of 11, 11 and 10 bits; about twice as fast as TypedArray sort.
 */
function radixSortFloat32(values: Float32Array): Float32Array {
  const n = values.length;
  const keys = new Uint32Array(values.buffer, values.byteOffset, n);
  for (let i = 0; i < n; i++) {
    const bits = keys[i] as number;
    keys[i] = bits >>> 31 === 1 ? ~bits : bits | 0x80000000;
  }
  const spare = new Uint32Array(n);
  const counts = new Int32Array(1 << 11);
  countingPass(keys, spare, counts, 0, (1 << 11) - 1);
  countingPass(spare, keys, counts, 11, (1 << 11) - 1);
  countingPass(keys, spare, counts, 22, (1 << 10) - 1);
  for (let i = 0; i < n; i++) {
    const key = spare[i] as number;
    keys[i] = key >>> 31 === 1 ? key & 0x7fffffff : ~key;
  }
  return values;
}

/** One stable counting-sort pass of `from` into `to` on the key bits (key >>> shift) & mask. */
function countingPass(from: Uint32Array, to: Uint32Array, counts: Int32Array, shift: number, mask: number): void {
  counts.fill(0);
  for (let i = 0; i < from.length; i++) {
    const digit = ((from[i] as number) >>> shift) & mask;
    counts[digit] = (counts[digit] as number) + 1;
  }
  let total = 0;
  for (let digit = 0; digit <= mask; digit++) {
    const c = counts[digit] as number;
    counts[digit] = total;
    total += c;
  }
  for (let i = 0; i < from.length; i++) {
    const key = from[i] as number;
    const digit = (key >>> shift) & mask;
    const at = counts[digit] as number;
    to[at] = key;
    counts[digit] = at + 1;
  }
}

/** Writes the distinct values of ascending `sorted` (−0 and +0 are one) and their counts; returns how many. */
function countDistinct(sorted: Float32Array, distinct: Float32Array, counts: Int32Array): number {
  let d = 0;
  for (let i = 0; i < sorted.length; i++) {
    const v = sorted[i] as number;
    if (d > 0 && distinct[d - 1] === v) counts[d - 1] = (counts[d - 1] as number) + 1;
    else {
      distinct[d] = v;
      counts[d++] = 1;
    }
  }
  return d;
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
