/**
 * Gradient histograms of boosting: for each feature and bin code, the sums of the gradients and
 * hessians of a leaf's rows and their count; built from the rows, derived from the parent's by
 * subtraction, and scanned for the leaf's best split. Every function works on a block of features
 * and touches only their bins, so that threads can share one node's work (histogram-threads.ts),
 * and every sum is taken in one fixed order, so the results do not depend on how that work is shared.
 */

/**
 * Doubles per bin: gradient sum, hessian sum, row count and one unused slot, so that a bin's offset
 * is a shift and every feature's histogram has the same stride. The loops below write `x << 2` for
 * x × SLOTS: V8 reloads a module-level constant on every use.
 */
export const SLOTS = 4;

/** The binned rows histograms are built from, and where each feature's bins sit in a histogram. */
export interface HistogramLayout {
  /** Row-major [rows][p] bin codes. */
  readonly codes: Uint8Array;
  readonly p: number;
  /** Non-missing bins of each feature; its missing values have the code bins[f]. */
  readonly bins: Int32Array;
  /** Doubles per feature in a histogram: SLOTS × (most bins of any feature + the missing bin). */
  readonly featureStride: number;
}

/** The histogram layout of row-major `codes` binned by `edges` (one array of upper edges per feature). */
export function histogramLayout(codes: Uint8Array, edges: readonly Float32Array[]): HistogramLayout {
  const bins = Int32Array.from(edges, (e) => e.length);
  return { codes, p: edges.length, bins, featureStride: SLOTS * (bins.reduce((most, b) => Math.max(most, b), 0) + 1) };
}

/** Doubles in a histogram of this layout. */
export function histogramSize(layout: HistogramLayout): number {
  return layout.p * layout.featureStride;
}

/** What a split must leave on each side, and gain, to count. */
export interface SplitLimits {
  readonly minChildSamples: number;
  readonly minChildWeight: number;
  readonly minSplitGain: number;
  /** L2 regularization of leaf values. */
  readonly lambda: number;
}

/**
 * Sets the bins of the ascending `features` in `hist` to the sums of the rows order[start..end).
 * Every bin receives its rows in ascending position.
 */
export function buildHistogram(
  layout: HistogramLayout,
  hist: Float64Array,
  grad: Float64Array,
  hess: Float64Array,
  order: Int32Array,
  start: number,
  end: number,
  features: Int32Array,
): void {
  const nf = features.length;
  if (nf === 0) return;
  const { featureStride } = layout;
  const first = features[0] as number;
  if ((features[nf - 1] as number) - first !== nf - 1) {
    for (let j = 0; j < nf; j++) {
      const begin = (features[j] as number) * featureStride;
      hist.fill(0, begin, begin + featureStride);
    }
    addRowsOfFeatures(layout, hist, grad, hess, order, start, end, features);
    return;
  }
  // A run of consecutive features: a row's codes are contiguous and the histograms follow one another.
  hist.fill(0, first * featureStride, (first + nf) * featureStride);
  const quadsEnd = start + ((end - start) & ~3);
  addRowQuads(layout, hist, grad, hess, order, start, quadsEnd, first, nf);
  if (quadsEnd < end) addRows(layout, hist, grad, hess, order, quadsEnd, end, first, nf);
}

/** parent −= child over the bins of `features`: the sibling's histogram, in the parent's buffer. */
export function subtractHistogram(
  layout: HistogramLayout,
  parent: Float64Array,
  child: Float64Array,
  features: Int32Array,
): void {
  for (let j = 0; j < features.length; j++) {
    const f = features[j] as number;
    const begin = f * layout.featureStride;
    subtractRange(parent, child, begin, begin + (((layout.bins[f] as number) + 1) << 2));
  }
}

/** Doubles of a best split: gain, feature, bin, and the left side's gradient and hessian sums. */
export const BEST_SLOTS = 5;

/**
 * Scans the bins of `features` for the best split of a leaf with gradient sum g, hessian sum h and
 * `count` rows, and writes it into best = [gain, feature, bin, left g, left h] when it beats what
 * best holds (feature −1: nothing yet). Features and bins are taken in order and only a strictly larger gain
 * wins, so scanning blocks of features one after another finds what one scan of them all would.
 */
export function scanHistogram(
  layout: HistogramLayout,
  hist: Float64Array,
  features: Int32Array,
  g: number,
  h: number,
  count: number,
  limits: SplitLimits,
  best: Float64Array,
): void {
  for (let j = 0; j < features.length; j++) scanFeature(layout, hist, features[j] as number, g, h, count, limits, best);
}

// The loops below are each alone in a function with nothing after them: V8 compiles a long loop
// on the fly (on-stack replacement) before the code after it ever ran, and code without type
// feedback there would drop back to the interpreter on every call.

/**
 * Rows order[start..end) four at a time (end − start a multiple of 4), for features
 * first..first+nf−1: four independent chains of additions in flight, the rows of a bin still
 * added in order.
 */
function addRowQuads(
  layout: HistogramLayout,
  hist: Float64Array,
  grad: Float64Array,
  hess: Float64Array,
  order: Int32Array,
  start: number,
  end: number,
  first: number,
  nf: number,
): void {
  const { codes, p, featureStride } = layout;
  const from = first * featureStride;
  const stop = from + nf * featureStride;
  for (let i = start; i < end; i += 4) {
    const r0 = order[i] as number;
    const r1 = order[i + 1] as number;
    const r2 = order[i + 2] as number;
    const r3 = order[i + 3] as number;
    const g0 = grad[r0] as number;
    const h0 = hess[r0] as number;
    const g1 = grad[r1] as number;
    const h1 = hess[r1] as number;
    const g2 = grad[r2] as number;
    const h2 = hess[r2] as number;
    const g3 = grad[r3] as number;
    const h3 = hess[r3] as number;
    let c0 = r0 * p + first;
    let c1 = r1 * p + first;
    let c2 = r2 * p + first;
    let c3 = r3 * p + first;
    for (let o = from; o < stop; o += featureStride) {
      let a = o + ((codes[c0++] as number) << 2);
      hist[a] = (hist[a] as number) + g0;
      hist[a + 1] = (hist[a + 1] as number) + h0;
      hist[a + 2] = (hist[a + 2] as number) + 1;
      a = o + ((codes[c1++] as number) << 2);
      hist[a] = (hist[a] as number) + g1;
      hist[a + 1] = (hist[a + 1] as number) + h1;
      hist[a + 2] = (hist[a + 2] as number) + 1;
      a = o + ((codes[c2++] as number) << 2);
      hist[a] = (hist[a] as number) + g2;
      hist[a + 1] = (hist[a + 1] as number) + h2;
      hist[a + 2] = (hist[a + 2] as number) + 1;
      a = o + ((codes[c3++] as number) << 2);
      hist[a] = (hist[a] as number) + g3;
      hist[a + 1] = (hist[a + 1] as number) + h3;
      hist[a + 2] = (hist[a + 2] as number) + 1;
    }
  }
}

/** Rows order[start..end) one at a time, for features first..first+nf−1. */
function addRows(
  layout: HistogramLayout,
  hist: Float64Array,
  grad: Float64Array,
  hess: Float64Array,
  order: Int32Array,
  start: number,
  end: number,
  first: number,
  nf: number,
): void {
  const { codes, p, featureStride } = layout;
  const from = first * featureStride;
  const stop = from + nf * featureStride;
  for (let i = start; i < end; i++) {
    const r = order[i] as number;
    const gr = grad[r] as number;
    const hr = hess[r] as number;
    let cr = r * p + first;
    for (let o = from; o < stop; o += featureStride) {
      const a = o + ((codes[cr++] as number) << 2);
      hist[a] = (hist[a] as number) + gr;
      hist[a + 1] = (hist[a + 1] as number) + hr;
      hist[a + 2] = (hist[a + 2] as number) + 1;
    }
  }
}

/** Rows order[start..end) for any ascending features. */
function addRowsOfFeatures(
  layout: HistogramLayout,
  hist: Float64Array,
  grad: Float64Array,
  hess: Float64Array,
  order: Int32Array,
  start: number,
  end: number,
  features: Int32Array,
): void {
  const { codes, p, featureStride } = layout;
  const nf = features.length;
  for (let i = start; i < end; i++) {
    const r = order[i] as number;
    const gr = grad[r] as number;
    const hr = hess[r] as number;
    const row = r * p;
    for (let j = 0; j < nf; j++) {
      const f = features[j] as number;
      const a = f * featureStride + ((codes[row + f] as number) << 2);
      hist[a] = (hist[a] as number) + gr;
      hist[a + 1] = (hist[a + 1] as number) + hr;
      hist[a + 2] = (hist[a + 2] as number) + 1;
    }
  }
}

function subtractRange(parent: Float64Array, child: Float64Array, begin: number, end: number): void {
  for (let o = begin; o < end; o++) parent[o] = (parent[o] as number) - (child[o] as number);
}

/** Scans feature f's bins left to right; see scanHistogram. */
function scanFeature(
  layout: HistogramLayout,
  hist: Float64Array,
  f: number,
  g: number,
  h: number,
  count: number,
  limits: SplitLimits,
  best: Float64Array,
): void {
  const { minChildSamples, minChildWeight, minSplitGain, lambda } = limits;
  const parentScore = (g * g) / (h + lambda);
  const nb = layout.bins[f] as number;
  const base = f * layout.featureStride;
  const missingCount = hist[base + (nb << 2) + 2] as number;
  let gl = 0;
  let hl = 0;
  let cl = 0;
  for (let b = 0; b < nb; b++) {
    const o = base + (b << 2);
    gl += hist[o] as number;
    hl += hist[o + 1] as number;
    cl += hist[o + 2] as number;
    if (b === nb - 1 && missingCount === 0) break;
    const cr = count - cl;
    if (cl < minChildSamples) continue;
    if (cr < minChildSamples) break;
    const hr = h - hl;
    if (hl < minChildWeight || hr < minChildWeight) continue;
    const gr = g - gl;
    const gain = (gl * gl) / (hl + lambda) + (gr * gr) / (hr + lambda) - parentScore;
    if (gain > minSplitGain && gain > 0 && ((best[1] as number) < 0 || gain > (best[0] as number))) {
      best[0] = gain;
      best[1] = f;
      best[2] = b;
      best[3] = gl;
      best[4] = hl;
    }
  }
}
