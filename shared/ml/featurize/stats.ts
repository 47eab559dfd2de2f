/**
 * Summary statistics of one column's training values, as the imputers and scalers fit them.
 * Missing values (NaN) are skipped; infinities are skipped too, so one overflowed cell cannot turn
 * a mean or a scale into Infinity.
 */

/** The finite values of `values`, sorted ascending (a new array). */
export function sortedFinite(values: Float64Array): Float64Array {
  let n = 0;
  for (const v of values) if (Number.isFinite(v)) n++;
  const out = new Float64Array(n);
  let k = 0;
  for (const v of values) if (Number.isFinite(v)) out[k++] = v;
  return out.sort();
}

export function mean(sorted: Float64Array): number {
  if (sorted.length === 0) return Number.NaN;
  let s = 0;
  for (const v of sorted) s += v;
  return s / sorted.length;
}

/** Population standard deviation (what sklearn's StandardScaler divides by). */
export function std(sorted: Float64Array): number {
  if (sorted.length === 0) return Number.NaN;
  const m = mean(sorted);
  let s = 0;
  for (const v of sorted) s += (v - m) * (v - m);
  return Math.sqrt(s / sorted.length);
}

/** The q-quantile of sorted values with linear interpolation (numpy's default). */
export function quantile(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}

export function median(sorted: Float64Array): number {
  return quantile(sorted, 0.5);
}

/** The most frequent value; ties go to the smallest. */
export function mostFrequent(sorted: Float64Array): number {
  let best = Number.NaN;
  let bestCount = 0;
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j < sorted.length && sorted[j] === sorted[i]) j++;
    if (j - i > bestCount) {
      bestCount = j - i;
      best = sorted[i] as number;
    }
    i = j;
  }
  return best;
}

/** The most frequent key of `counts`; ties go to the key that sorts first. */
export function mostFrequentKey(counts: ReadonlyMap<string, number>): string | undefined {
  let best: string | undefined;
  let bestCount = 0;
  for (const [k, c] of counts) {
    if (c > bestCount || (c === bestCount && best !== undefined && k < best)) {
      best = k;
      bestCount = c;
    }
  }
  return best;
}
