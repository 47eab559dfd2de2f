/**
 * Gradient histograms of boosting: for each feature and bin code, the sums of the gradients and
 * hessians of a leaf's rows and their count. One function, run by the fitting thread and by the
 * histogram workers (histogram-threads.ts) alike, each on its own block of features.
 */

/**
 * Doubles per bin: gradient sum, hessian sum, row count and one unused slot, so that a bin's offset
 * is a multiple of 4 and every feature's histogram has the same stride.
 */
export const SLOTS = 4;

/** The binned rows a histogram is built from, and where each feature's bins sit in a histogram. */
export interface HistogramLayout {
  /** Row-major [rows][p] bin codes. */
  readonly codes: Uint8Array;
  readonly p: number;
  /** Doubles per feature in a histogram: SLOTS × (most bins of any feature + the missing bin). */
  readonly featureStride: number;
}

/** The stride of a histogram for features with these bin edges (each has one more bin for NaN). */
export function featureStrideOf(edges: readonly Float32Array[]): number {
  return SLOTS * (edges.reduce((most, e) => Math.max(most, e.length), 0) + 1);
}

/**
 * Adds the rows order[start..end) into `hist` for the ascending features `features`; only those
 * features' bins are written, so threads may fill disjoint feature blocks of one histogram. Every
 * bin receives its rows in ascending position, so the sums do not depend on how the work is split.
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
  const first = features[0] as number;
  if ((features[nf - 1] as number) - first !== nf - 1) {
    addRowsOfFeatures(layout, hist, grad, hess, order, start, end, features);
    return;
  }
  // A run of consecutive features: a row's codes are contiguous and the histograms follow one another.
  const quadsEnd = start + ((end - start) & ~3);
  addRowQuads(layout, hist, grad, hess, order, start, quadsEnd, first, nf);
  if (quadsEnd < end) addRows(layout, hist, grad, hess, order, quadsEnd, end, first, nf);
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
      let a = o + (codes[c0++] as number) * SLOTS;
      hist[a] = (hist[a] as number) + g0;
      hist[a + 1] = (hist[a + 1] as number) + h0;
      hist[a + 2] = (hist[a + 2] as number) + 1;
      a = o + (codes[c1++] as number) * SLOTS;
      hist[a] = (hist[a] as number) + g1;
      hist[a + 1] = (hist[a + 1] as number) + h1;
      hist[a + 2] = (hist[a + 2] as number) + 1;
      a = o + (codes[c2++] as number) * SLOTS;
      hist[a] = (hist[a] as number) + g2;
      hist[a + 1] = (hist[a + 1] as number) + h2;
      hist[a + 2] = (hist[a + 2] as number) + 1;
      a = o + (codes[c3++] as number) * SLOTS;
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
      const a = o + (codes[cr++] as number) * SLOTS;
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
      const a = f * featureStride + (codes[row + f] as number) * SLOTS;
      hist[a] = (hist[a] as number) + gr;
      hist[a + 1] = (hist[a + 1] as number) + hr;
      hist[a + 2] = (hist[a + 2] as number) + 1;
    }
  }
}
