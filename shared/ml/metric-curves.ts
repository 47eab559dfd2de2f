/**
 * Threshold curves of a classifier's scores: ROC and precision-recall curves (per class,
 * one-vs-rest, with micro and macro averages) and calibration (reliability) curves.
 *
 * Every curve is built on one sweep over the distinct scores in descending order, as
 * scikit-learn's `_binary_clf_curve` does: tied scores form a single threshold, so a tie between a
 * positive and a negative moves the ROC curve diagonally and earns half credit in its area.
 */
import type { Matrix } from './types.js';

/** Cumulative positive and negative weight at each distinct threshold, scores descending. */
export interface ThresholdSweep {
  /** The distinct scores, descending. */
  thresholds: Float64Array;
  /** Weight of positives scoring >= thresholds[i]. */
  tps: Float64Array;
  /** Weight of negatives scoring >= thresholds[i]. */
  fps: Float64Array;
}

export interface RocCurve {
  /** Starts at (0, 0) with threshold +Infinity, ends at (1, 1). */
  fpr: Float64Array;
  tpr: Float64Array;
  thresholds: Float64Array;
}

export interface PrecisionRecallCurve {
  /** Ordered by descending threshold; starts at recall 0, precision 1 (threshold +Infinity). */
  precision: Float64Array;
  recall: Float64Array;
  thresholds: Float64Array;
}

/** Averages across classes: x grid and the mean y at each grid point. */
export interface AveragedRocCurve {
  fpr: Float64Array;
  tpr: Float64Array;
}

export interface AveragedPrecisionRecallCurve {
  recall: Float64Array;
  precision: Float64Array;
}

export interface ClassCurves {
  classIndex: number;
  roc: RocCurve;
  pr: PrecisionRecallCurve;
}

export interface MulticlassCurves {
  /** One-vs-rest curves of the classes present in y_true (a class without positives has none). */
  perClass: ClassCurves[];
  /** All (row, class) cells pooled into one binary problem. */
  micro: { roc: RocCurve; pr: PrecisionRecallCurve };
  /**
   * ROC: the mean of the per-class TPRs, each linearly interpolated on the union of their FPRs.
   * PR: the mean of the per-class interpolated precisions (the best precision at recall >= r) on
   * the union of their recalls.
   */
  macro: { roc: AveragedRocCurve; pr: AveragedPrecisionRecallCurve };
}

export interface CalibrationBin {
  /** Bin bounds: (lower, upper], the first bin also includes 0. */
  lower: number;
  upper: number;
  /** Number of rows in the bin, and their total weight. */
  count: number;
  weight: number;
  /** Weighted mean predicted probability (NaN when the bin is empty). */
  meanPredicted: number;
  /** Weighted fraction of positives (NaN when the bin is empty). */
  fractionPositive: number;
}

export interface CalibrationCurves {
  perClass: { classIndex: number; bins: CalibrationBin[] }[];
  /** Every (row, class) probability pooled. */
  micro: CalibrationBin[];
}

/**
 * The sweep under every curve. `positive(i)` says whether row i is a positive. Rows of zero
 * weight are skipped, as scikit-learn does, so they add no thresholds.
 */
export function thresholdSweep(
  scores: ArrayLike<number>,
  positive: (row: number) => boolean,
  weights?: ArrayLike<number>,
): ThresholdSweep {
  const n = scores.length;
  if (weights !== undefined && weights.length !== n) {
    throw new RangeError(`weights has ${weights.length} entries; expected ${n}`);
  }
  const order: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = scores[i] as number;
    if (Number.isNaN(s)) throw new RangeError(`scores[${i}] is NaN`);
    if (weights === undefined || (weights[i] as number) !== 0) order.push(i);
  }
  // Descending score; ties keep row order (the order inside a tie does not change any curve).
  order.sort((a, b) => (scores[b] as number) - (scores[a] as number) || a - b);
  const thresholds: number[] = [];
  const tps: number[] = [];
  const fps: number[] = [];
  let tp = 0;
  let fp = 0;
  for (let j = 0; j < order.length; j++) {
    const i = order[j] as number;
    const w = weights === undefined ? 1 : (weights[i] as number);
    if (positive(i)) tp += w;
    else fp += w;
    const next = order[j + 1];
    if (next === undefined || (scores[next] as number) !== (scores[i] as number)) {
      thresholds.push(scores[i] as number);
      tps.push(tp);
      fps.push(fp);
    }
  }
  return { thresholds: Float64Array.from(thresholds), tps: Float64Array.from(tps), fps: Float64Array.from(fps) };
}

/** ROC points of one binary problem (all distinct thresholds, none dropped). */
export function rocCurve(
  scores: ArrayLike<number>,
  positive: (row: number) => boolean,
  weights?: ArrayLike<number>,
): RocCurve {
  return rocFromSweep(thresholdSweep(scores, positive, weights));
}

export function rocFromSweep({ thresholds, tps, fps }: ThresholdSweep): RocCurve {
  const m = thresholds.length;
  const p = m > 0 ? (tps[m - 1] as number) : 0;
  const q = m > 0 ? (fps[m - 1] as number) : 0;
  const fpr = new Float64Array(m + 1);
  const tpr = new Float64Array(m + 1);
  const th = new Float64Array(m + 1);
  th[0] = Number.POSITIVE_INFINITY;
  for (let i = 0; i < m; i++) {
    // No negatives (or no positives): the rate is undefined; NaN says so rather than a fake 0.
    fpr[i + 1] = q > 0 ? (fps[i] as number) / q : Number.NaN;
    tpr[i + 1] = p > 0 ? (tps[i] as number) / p : Number.NaN;
    th[i + 1] = thresholds[i] as number;
  }
  if (q <= 0) fpr[0] = Number.NaN;
  if (p <= 0) tpr[0] = Number.NaN;
  return { fpr, tpr, thresholds: th };
}

/** Precision-recall points of one binary problem. */
export function precisionRecallCurve(
  scores: ArrayLike<number>,
  positive: (row: number) => boolean,
  weights?: ArrayLike<number>,
): PrecisionRecallCurve {
  return precisionRecallFromSweep(thresholdSweep(scores, positive, weights));
}

export function precisionRecallFromSweep({ thresholds, tps, fps }: ThresholdSweep): PrecisionRecallCurve {
  const m = thresholds.length;
  const p = m > 0 ? (tps[m - 1] as number) : 0;
  const precision = new Float64Array(m + 1);
  const recall = new Float64Array(m + 1);
  const th = new Float64Array(m + 1);
  precision[0] = 1;
  recall[0] = 0;
  th[0] = Number.POSITIVE_INFINITY;
  for (let i = 0; i < m; i++) {
    const tp = tps[i] as number;
    const predicted = tp + (fps[i] as number);
    precision[i + 1] = predicted > 0 ? tp / predicted : 0;
    // scikit-learn sets recall to 1 everywhere when y_true has no positives; we follow it, so
    // average precision comes out as 0 rather than NaN.
    recall[i + 1] = p > 0 ? tp / p : 1;
    th[i + 1] = thresholds[i] as number;
  }
  if (p <= 0) recall[0] = 1;
  return { precision, recall, thresholds: th };
}

/** Area under the ROC curve by the trapezoid rule: ties earn half credit. NaN with one class. */
export function aucFromSweep({ tps, fps }: ThresholdSweep): number {
  const m = tps.length;
  if (m === 0) return Number.NaN;
  const p = tps[m - 1] as number;
  const q = fps[m - 1] as number;
  if (!(p > 0) || !(q > 0)) return Number.NaN;
  let area = 0;
  let prevTp = 0;
  let prevFp = 0;
  for (let i = 0; i < m; i++) {
    const tp = tps[i] as number;
    const fp = fps[i] as number;
    area += (fp - prevFp) * (tp + prevTp);
    prevTp = tp;
    prevFp = fp;
  }
  return area / (2 * p * q);
}

/**
 * scikit-learn's average precision: sum over thresholds of (R_i - R_{i-1}) * P_i, no interpolation.
 * 0 when there are no positives (scikit-learn's convention).
 */
export function averagePrecisionFromSweep(sweep: ThresholdSweep): number {
  const { precision, recall } = precisionRecallFromSweep(sweep);
  let ap = 0;
  for (let i = 1; i < precision.length; i++) {
    ap += ((recall[i] as number) - (recall[i - 1] as number)) * (precision[i] as number);
  }
  return ap;
}

function checkProba(yTrue: ArrayLike<number>, proba: Matrix, weights?: ArrayLike<number>): void {
  if (proba.rows !== yTrue.length) {
    throw new RangeError(`proba has ${proba.rows} rows but yTrue has ${yTrue.length} entries`);
  }
  if (weights !== undefined && weights.length !== yTrue.length) {
    throw new RangeError(`weights has ${weights.length} entries; expected ${yTrue.length}`);
  }
}

function column(proba: Matrix, c: number): Float64Array {
  const out = new Float64Array(proba.rows);
  for (let i = 0; i < proba.rows; i++) out[i] = proba.data[i * proba.cols + c] as number;
  return out;
}

/** Per-class, micro and macro ROC and PR curves of a multiclass (or binary) classifier. */
export function multiclassCurves(
  yTrue: ArrayLike<number>,
  proba: Matrix,
  weights?: ArrayLike<number>,
): MulticlassCurves {
  checkProba(yTrue, proba, weights);
  const k = proba.cols;
  const n = proba.rows;
  const perClass: ClassCurves[] = [];
  for (let c = 0; c < k; c++) {
    let present = false;
    for (let i = 0; i < n && !present; i++) present = yTrue[i] === c;
    if (!present) continue;
    const sweep = thresholdSweep(column(proba, c), (i) => yTrue[i] === c, weights);
    perClass.push({ classIndex: c, roc: rocFromSweep(sweep), pr: precisionRecallFromSweep(sweep) });
  }
  let pooledWeights: Float64Array | undefined;
  if (weights !== undefined) {
    pooledWeights = new Float64Array(n * k);
    for (let i = 0; i < n; i++) pooledWeights.fill(weights[i] as number, i * k, (i + 1) * k);
  }
  const microSweep = thresholdSweep(proba.data, (cell) => yTrue[Math.floor(cell / k)] === cell % k, pooledWeights);
  return {
    perClass,
    micro: { roc: rocFromSweep(microSweep), pr: precisionRecallFromSweep(microSweep) },
    macro: {
      roc: macroRoc(perClass.map((c) => c.roc)),
      pr: macroPrecisionRecall(perClass.map((c) => c.pr)),
    },
  };
}

function sortedUnion(arrays: readonly Float64Array[]): Float64Array {
  const all = new Set<number>();
  for (const a of arrays) for (const v of a) if (!Number.isNaN(v)) all.add(v);
  return Float64Array.from(all).sort();
}

/** np.interp: linear interpolation on increasing `xs` (the last of equal xs wins, as numpy). */
function interpolate(x: number, xs: Float64Array, ys: Float64Array): number {
  const m = xs.length;
  if (m === 0) return Number.NaN;
  if (x <= (xs[0] as number)) return ys[0] as number;
  if (x >= (xs[m - 1] as number)) return ys[m - 1] as number;
  let lo = 0;
  let hi = m - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if ((xs[mid] as number) <= x) lo = mid;
    else hi = mid;
  }
  const x0 = xs[lo] as number;
  const x1 = xs[hi] as number;
  if (x1 === x0) return ys[hi] as number;
  return (ys[lo] as number) + (((ys[hi] as number) - (ys[lo] as number)) * (x - x0)) / (x1 - x0);
}

function macroRoc(curves: readonly RocCurve[]): AveragedRocCurve {
  const fpr = sortedUnion(curves.map((c) => c.fpr));
  const tpr = new Float64Array(fpr.length);
  for (const c of curves) {
    for (let g = 0; g < fpr.length; g++) tpr[g] = (tpr[g] as number) + interpolate(fpr[g] as number, c.fpr, c.tpr);
  }
  for (let g = 0; g < tpr.length; g++) tpr[g] = (tpr[g] as number) / curves.length;
  return { fpr, tpr };
}

function macroPrecisionRecall(curves: readonly PrecisionRecallCurve[]): AveragedPrecisionRecallCurve {
  const recall = sortedUnion(curves.map((c) => c.recall));
  const precision = new Float64Array(recall.length);
  for (const c of curves) {
    // Interpolated precision: the best precision reached at any recall >= r.
    const m = c.recall.length;
    const bestFrom = new Float64Array(m);
    let best = 0;
    for (let i = m - 1; i >= 0; i--) {
      best = Math.max(best, c.precision[i] as number);
      bestFrom[i] = best;
    }
    let i = 0;
    for (let g = 0; g < recall.length; g++) {
      const r = recall[g] as number;
      while (i < m && (c.recall[i] as number) < r) i++;
      precision[g] = (precision[g] as number) + (i < m ? (bestFrom[i] as number) : 0);
    }
  }
  for (let g = 0; g < precision.length; g++) precision[g] = (precision[g] as number) / curves.length;
  return { recall, precision };
}

/**
 * Reliability bins of predicted probabilities against outcomes: `bins` equal-width bins on [0, 1],
 * edges placed as numpy's linspace and assigned as scikit-learn's calibration_curve (searchsorted
 * on the inner edges), so a probability on an edge falls in the lower bin.
 */
export function calibrationBins(
  probabilities: ArrayLike<number>,
  positive: (row: number) => boolean,
  options: { bins?: number; weights?: ArrayLike<number> } = {},
): CalibrationBin[] {
  const nBins = options.bins ?? 10;
  if (!Number.isInteger(nBins) || nBins < 1) throw new RangeError(`bins must be a positive integer; got ${nBins}`);
  const { weights } = options;
  const n = probabilities.length;
  if (weights !== undefined && weights.length !== n) {
    throw new RangeError(`weights has ${weights.length} entries; expected ${n}`);
  }
  const step = 1 / nBins;
  const edges = new Float64Array(nBins + 1);
  for (let b = 0; b <= nBins; b++) edges[b] = b * step;
  edges[nBins] = 1;
  const count = new Float64Array(nBins);
  const weight = new Float64Array(nBins);
  const sumP = new Float64Array(nBins);
  const sumPos = new Float64Array(nBins);
  for (let i = 0; i < n; i++) {
    const p = probabilities[i] as number;
    if (!(p >= 0 && p <= 1)) throw new RangeError(`probabilities[${i}] = ${p} is outside [0, 1]`);
    // First inner edge >= p (searchsorted, side 'left', on edges[1..nBins-1]).
    let lo = 1;
    let hi = nBins;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((edges[mid] as number) >= p) hi = mid;
      else lo = mid + 1;
    }
    const b = lo - 1;
    const w = weights === undefined ? 1 : (weights[i] as number);
    count[b] = (count[b] as number) + 1;
    weight[b] = (weight[b] as number) + w;
    sumP[b] = (sumP[b] as number) + w * p;
    if (positive(i)) sumPos[b] = (sumPos[b] as number) + w;
  }
  const out: CalibrationBin[] = [];
  for (let b = 0; b < nBins; b++) {
    const w = weight[b] as number;
    out.push({
      lower: edges[b] as number,
      upper: edges[b + 1] as number,
      count: count[b] as number,
      weight: w,
      meanPredicted: w > 0 ? (sumP[b] as number) / w : Number.NaN,
      fractionPositive: w > 0 ? (sumPos[b] as number) / w : Number.NaN,
    });
  }
  return out;
}

/** Reliability bins per class (one-vs-rest, classes present in y_true) and pooled over classes. */
export function calibrationCurves(
  yTrue: ArrayLike<number>,
  proba: Matrix,
  options: { bins?: number; weights?: ArrayLike<number> } = {},
): CalibrationCurves {
  checkProba(yTrue, proba, options.weights);
  const k = proba.cols;
  const n = proba.rows;
  const perClass: CalibrationCurves['perClass'] = [];
  for (let c = 0; c < k; c++) {
    let present = false;
    for (let i = 0; i < n && !present; i++) present = yTrue[i] === c;
    if (!present) continue;
    const bins = calibrationBins(column(proba, c), (i) => yTrue[i] === c, options);
    perClass.push({ classIndex: c, bins });
  }
  let pooledWeights: Float64Array | undefined;
  if (options.weights !== undefined) {
    pooledWeights = new Float64Array(n * k);
    for (let i = 0; i < n; i++) pooledWeights.fill(options.weights[i] as number, i * k, (i + 1) * k);
  }
  const micro = calibrationBins(proba.data, (cell) => yTrue[Math.floor(cell / k)] === cell % k, {
    ...(options.bins === undefined ? {} : { bins: options.bins }),
    ...(pooledWeights === undefined ? {} : { weights: pooledWeights }),
  });
  return { perClass, micro };
}
