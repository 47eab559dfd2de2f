/**
 * Gradient histograms of boosting: for each feature and bin code, the sums of the gradients and
 * hessians of a leaf's rows and their count; built from the rows, derived from the parent's by
 * subtraction, and scanned for the leaf's best split. Every function works on a block of features
 * and touches only their bins, so that threads can share one node's work (histogram-threads.ts),
 * and every sum is taken in one fixed order, so the results do not depend on how that work is shared.
 * The passes over rows, the subtraction and the scan run in WebAssembly (histogram-kernel.ts).
 */
import type { HistogramKernel } from './histogram-kernel.js';

/**
 * Doubles per bin: gradient sum, hessian sum, row count and one unused slot, so that a bin's offset
 * is a shift, the kernel adds (gradient, hessian) and (1, 0) as two f64x2 pairs, and every
 * feature's histogram has the same stride.
 */
export const SLOTS = 4;

/** The binned rows histograms are built from, and where each feature's bins sit in a histogram. */
export interface HistogramLayout {
  /** Row-major [rows][p] bin codes; a view on the kernel's memory when histograms are built from it. */
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
 * Every bin receives its rows in ascending position. `hist`, `grad`, `hess`, `order` and, unless
 * they are consecutive, `features` are views on the kernel's memory (histogram-kernel.ts), like
 * the layout's codes.
 */
export function buildHistogram(
  kernel: HistogramKernel,
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
  const { codes, p, featureStride } = layout;
  const first = features[0] as number;
  // A run of consecutive features: a row's codes are contiguous and the histograms follow one another.
  const run = (features[nf - 1] as number) - first === nf - 1;
  if (run) hist.fill(0, first * featureStride, (first + nf) * featureStride);
  else for (let j = 0; j < nf; j++) clearFeature(layout, hist, features[j] as number);
  const pass = run ? kernel.addRows : kernel.addRowsOfFeatures;
  pass(
    order.byteOffset,
    start,
    end,
    codes.byteOffset,
    p,
    grad.byteOffset,
    hess.byteOffset,
    hist.byteOffset,
    run ? first : features.byteOffset,
    nf,
    featureStride * 8,
  );
}

function clearFeature(layout: HistogramLayout, hist: Float64Array, f: number): void {
  const begin = f * layout.featureStride;
  hist.fill(0, begin, begin + layout.featureStride);
}

/** parent −= child over the bins of `features`: the sibling's histogram, in the parent's buffer (both on the kernel's memory). */
export function subtractHistogram(
  kernel: HistogramKernel,
  layout: HistogramLayout,
  parent: Float64Array,
  child: Float64Array,
  features: Int32Array,
): void {
  for (let j = 0; j < features.length; j++) {
    const f = features[j] as number;
    const begin = f * layout.featureStride * 8;
    kernel.subtract(parent.byteOffset, child.byteOffset, begin, begin + ((layout.bins[f] as number) + 1) * SLOTS * 8);
  }
}

/** Doubles of a best split: gain, feature, bin, and the left side's gradient and hessian sums. */
export const BEST_SLOTS = 5;

/**
 * Scans the bins of `features` for the best split of a leaf with gradient sum g, hessian sum h and
 * `count` rows, and writes it into best = [gain, feature, bin, left g, left h] when it beats what
 * best holds (feature −1: nothing yet). Features and bins are taken in order and only a strictly
 * larger gain wins, so scanning blocks of features one after another finds what one scan of them
 * all would. For each feature, bin by bin: the left side's running sums; a bin is a candidate once
 * both sides have `minChildSamples` rows and `minChildWeight` hessian; its gain is
 * gl²/(hl + λ) + gr²/(hr + λ) − g²/(h + λ). `hist`, `features`, `best` and the layout's bins are
 * views on the kernel's memory.
 */
export function scanHistogram(
  kernel: HistogramKernel,
  layout: HistogramLayout,
  hist: Float64Array,
  features: Int32Array,
  g: number,
  h: number,
  count: number,
  limits: SplitLimits,
  best: Float64Array,
): void {
  if (features.length === 0) return;
  const { minChildSamples, minChildWeight, minSplitGain, lambda } = limits;
  kernel.scan(
    hist.byteOffset,
    layout.bins.byteOffset,
    features.byteOffset,
    features.length,
    layout.featureStride * 8,
    best.byteOffset,
    g,
    h,
    count,
    minChildSamples,
    minChildWeight,
    minSplitGain,
    lambda,
  );
}
