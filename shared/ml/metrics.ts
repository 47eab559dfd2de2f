/**
 * Azure ML AutoML's scalar metrics, under Azure's names and with Azure's definitions (the
 * `azureml-metrics` package, which wraps scikit-learn and adds its own rules):
 *
 * - The predicted class is the arg-max of the probabilities (first maximum on ties).
 * - precision/recall/F1 average over the labels found in y_true or y_pred, with zero_division = 0.
 * - AUC, average precision and norm_macro_recall, for more than two classes, score only the
 *   classes present in y_true (the others' columns are dropped); with two classes both columns
 *   are kept, so AUC_weighted is the binary AUC.
 * - norm_macro_recall = max(0, (macro recall - R) / (1 - R)), R = 1 / (number of classes scored).
 * - Regression errors normalized by the target range are clipped to [0, 1], r2 to [-1, 1];
 *   spearman_correlation is -1 (its worst) when y_true or y_pred is constant.
 *
 * Where Azure raises (AUC with one class in y_true) these functions return NaN.
 */
import { aucFromSweep, averagePrecisionFromSweep, thresholdSweep } from './metric-curves.js';
import type { Matrix, Task } from './types.js';

export type MetricGoal = 'maximize' | 'minimize';

export const CLASSIFICATION_METRIC_NAMES = [
  'accuracy',
  'AUC_macro',
  'AUC_micro',
  'AUC_weighted',
  'average_precision_score_macro',
  'average_precision_score_micro',
  'average_precision_score_weighted',
  'balanced_accuracy',
  'f1_score_macro',
  'f1_score_micro',
  'f1_score_weighted',
  'log_loss',
  'matthews_correlation',
  'norm_macro_recall',
  'precision_score_macro',
  'precision_score_micro',
  'precision_score_weighted',
  'recall_score_macro',
  'recall_score_micro',
  'recall_score_weighted',
  'weighted_accuracy',
] as const;

export const REGRESSION_METRIC_NAMES = [
  'explained_variance',
  'mean_absolute_error',
  'mean_absolute_percentage_error',
  'median_absolute_error',
  'normalized_mean_absolute_error',
  'normalized_median_absolute_error',
  'normalized_root_mean_squared_error',
  'normalized_root_mean_squared_log_error',
  'r2_score',
  'root_mean_squared_error',
  'root_mean_squared_log_error',
  'spearman_correlation',
] as const;

export type ClassificationMetricName = (typeof CLASSIFICATION_METRIC_NAMES)[number];
export type RegressionMetricName = (typeof REGRESSION_METRIC_NAMES)[number];
export type MetricName = ClassificationMetricName | RegressionMetricName;

/** Whether a larger value of each metric is better (Azure's objectives table). */
export const METRIC_GOALS: Readonly<Record<MetricName, MetricGoal>> = Object.freeze({
  accuracy: 'maximize',
  AUC_macro: 'maximize',
  AUC_micro: 'maximize',
  AUC_weighted: 'maximize',
  average_precision_score_macro: 'maximize',
  average_precision_score_micro: 'maximize',
  average_precision_score_weighted: 'maximize',
  balanced_accuracy: 'maximize',
  f1_score_macro: 'maximize',
  f1_score_micro: 'maximize',
  f1_score_weighted: 'maximize',
  log_loss: 'minimize',
  matthews_correlation: 'maximize',
  norm_macro_recall: 'maximize',
  precision_score_macro: 'maximize',
  precision_score_micro: 'maximize',
  precision_score_weighted: 'maximize',
  recall_score_macro: 'maximize',
  recall_score_micro: 'maximize',
  recall_score_weighted: 'maximize',
  weighted_accuracy: 'maximize',
  explained_variance: 'maximize',
  mean_absolute_error: 'minimize',
  mean_absolute_percentage_error: 'minimize',
  median_absolute_error: 'minimize',
  normalized_mean_absolute_error: 'minimize',
  normalized_median_absolute_error: 'minimize',
  normalized_root_mean_squared_error: 'minimize',
  normalized_root_mean_squared_log_error: 'minimize',
  r2_score: 'maximize',
  root_mean_squared_error: 'minimize',
  root_mean_squared_log_error: 'minimize',
  spearman_correlation: 'maximize',
});

/** The metrics Azure accepts as `primary_metric`, per task, the default first. */
export const PRIMARY_METRICS: Readonly<Record<Task, readonly MetricName[]>> = Object.freeze({
  classification: [
    'accuracy',
    'AUC_weighted',
    'average_precision_score_weighted',
    'norm_macro_recall',
    'precision_score_weighted',
  ],
  regression: [
    'spearman_correlation',
    'normalized_root_mean_squared_error',
    'r2_score',
    'normalized_mean_absolute_error',
  ],
  forecasting: [
    'normalized_root_mean_squared_error',
    'r2_score',
    'normalized_mean_absolute_error',
    'spearman_correlation',
  ],
});

export function isMetricName(name: string): name is MetricName {
  return Object.hasOwn(METRIC_GOALS, name);
}

export function metricGoal(name: string): MetricGoal {
  if (!isMetricName(name)) throw new RangeError(`unknown metric '${name}'`);
  return METRIC_GOALS[name];
}

/** Whether score `a` beats score `b` on `metric`; NaN never beats anything, anything beats NaN. */
export function isBetter(metric: MetricName, a: number, b: number): boolean {
  if (Number.isNaN(a)) return false;
  if (Number.isNaN(b)) return true;
  return METRIC_GOALS[metric] === 'maximize' ? a > b : a < b;
}

// ---------------------------------------------------------------------------------------------
// Classification

export interface ClassificationInput {
  /** Each row's true class, as an index into the probability columns. */
  yTrue: ArrayLike<number>;
  /** Row-major [rows, k] predicted probabilities; column c belongs to class c. */
  proba: Matrix;
  /** Sample weights (Azure's weight_column_name); weighted_accuracy ignores them, as Azure does. */
  weights?: ArrayLike<number>;
}

/** Maps string labels to indices into `classes`; an unknown label is a RangeError naming it. */
export function encodeLabels(labels: readonly string[], classes: readonly string[]): Int32Array {
  const index = new Map<string, number>();
  classes.forEach((c, i) => index.set(c, i));
  const out = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const j = index.get(labels[i] as string);
    if (j === undefined) {
      throw new RangeError(`label '${labels[i]}' (row ${i}) is not one of the classes ${JSON.stringify(classes)}`);
    }
    out[i] = j;
  }
  return out;
}

/** Index of each row's largest value (the first one on ties, as numpy's argmax). */
export function argmaxRows(m: Matrix, columns?: readonly number[]): Int32Array {
  const cols = columns ?? Array.from({ length: m.cols }, (_, c) => c);
  const out = new Int32Array(m.rows);
  for (let i = 0; i < m.rows; i++) {
    let best = -1;
    let bestValue = Number.NEGATIVE_INFINITY;
    for (const c of cols) {
      const v = m.data[i * m.cols + c] as number;
      if (best < 0 || v > bestValue) {
        best = c;
        bestValue = v;
      }
    }
    out[i] = best;
  }
  return out;
}

/** The k x k confusion matrix, rows = true class, columns = predicted class, summing weights. */
export function confusionMatrix(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  k: number,
  weights?: ArrayLike<number>,
): Matrix {
  if (yPred.length !== yTrue.length) {
    throw new RangeError(`yPred has ${yPred.length} entries; yTrue has ${yTrue.length}`);
  }
  const data = new Float64Array(k * k);
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i] as number;
    const p = yPred[i] as number;
    data[t * k + p] = (data[t * k + p] as number) + (weights === undefined ? 1 : (weights[i] as number));
  }
  return { rows: k, cols: k, data };
}

/** Each row of a confusion matrix divided by its sum (rows without samples stay 0). */
export function normalizeConfusionMatrix(cm: Matrix): Matrix {
  const data = new Float64Array(cm.data.length);
  for (let r = 0; r < cm.rows; r++) {
    let sum = 0;
    for (let c = 0; c < cm.cols; c++) sum += cm.data[r * cm.cols + c] as number;
    if (sum > 0) for (let c = 0; c < cm.cols; c++) data[r * cm.cols + c] = (cm.data[r * cm.cols + c] as number) / sum;
  }
  return { rows: cm.rows, cols: cm.cols, data };
}

interface PerClass {
  /** Weighted true positives, true support, predicted count. */
  tp: Float64Array;
  support: Float64Array;
  predicted: Float64Array;
  /** Labels scikit-learn averages over: seen (any weight) in y_true or y_pred. */
  labels: number[];
}

function perClassCounts(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  k: number,
  weights?: ArrayLike<number>,
): PerClass {
  const tp = new Float64Array(k);
  const support = new Float64Array(k);
  const predicted = new Float64Array(k);
  const seen = new Uint8Array(k);
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i] as number;
    const p = yPred[i] as number;
    const w = weights === undefined ? 1 : (weights[i] as number);
    support[t] = (support[t] as number) + w;
    predicted[p] = (predicted[p] as number) + w;
    if (t === p) tp[t] = (tp[t] as number) + w;
    seen[t] = 1;
    seen[p] = 1;
  }
  const labels: number[] = [];
  for (let c = 0; c < k; c++) if (seen[c] === 1) labels.push(c);
  return { tp, support, predicted, labels };
}

const ratio = (a: number, b: number): number => (b > 0 ? a / b : 0);

function averaged(pc: PerClass, score: (c: number) => number): { macro: number; weighted: number } {
  let sum = 0;
  let wsum = 0;
  let wtotal = 0;
  for (const c of pc.labels) {
    const s = score(c);
    sum += s;
    wsum += s * (pc.support[c] as number);
    wtotal += pc.support[c] as number;
  }
  return { macro: pc.labels.length > 0 ? sum / pc.labels.length : 0, weighted: ratio(wsum, wtotal) };
}

function checkClassificationInput({ yTrue, proba, weights }: ClassificationInput): void {
  const k = proba.cols;
  if (k < 2) throw new RangeError(`proba must have at least 2 columns (classes); got ${k}`);
  if (proba.rows !== yTrue.length) {
    throw new RangeError(`proba has ${proba.rows} rows but yTrue has ${yTrue.length} entries`);
  }
  if (proba.data.length !== proba.rows * k) {
    throw new RangeError(`proba.data has ${proba.data.length} values; expected ${proba.rows} x ${k}`);
  }
  if (yTrue.length === 0) throw new RangeError('yTrue is empty');
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i] as number;
    if (!Number.isInteger(t) || t < 0 || t >= k)
      throw new RangeError(`yTrue[${i}] = ${t} is not a class index in [0, ${k})`);
  }
  if (weights !== undefined) {
    if (weights.length !== yTrue.length) {
      throw new RangeError(`weights has ${weights.length} entries; expected ${yTrue.length}`);
    }
    for (let i = 0; i < weights.length; i++) {
      const w = weights[i] as number;
      if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`weights[${i}] = ${w} must be finite and >= 0`);
    }
  }
}

function columnOf(proba: Matrix, c: number): Float64Array {
  const out = new Float64Array(proba.rows);
  for (let i = 0; i < proba.rows; i++) out[i] = proba.data[i * proba.cols + c] as number;
  return out;
}

/**
 * Azure's class-averaged ranking scores (AUC or average precision): one-vs-rest per column,
 * averaged by weighted support (weighted) or plainly (macro) over the scored columns, which are
 * both columns for two classes and the classes present in y_true for more.
 */
function classAveragedScore(
  input: ClassificationInput,
  present: readonly number[],
  score: (c: number) => number,
): { macro: number; weighted: number } {
  const k = input.proba.cols;
  const columns = k === 2 ? [0, 1] : present;
  const support = new Float64Array(k);
  for (let i = 0; i < input.yTrue.length; i++) {
    const t = input.yTrue[i] as number;
    support[t] = (support[t] as number) + (input.weights === undefined ? 1 : (input.weights[i] as number));
  }
  let sum = 0;
  let wsum = 0;
  let wtotal = 0;
  for (const c of columns) {
    const s = score(c);
    sum += s;
    wsum += s * (support[c] as number);
    wtotal += support[c] as number;
  }
  return { macro: sum / columns.length, weighted: wtotal > 0 ? wsum / wtotal : 0 };
}

function classesPresent(yTrue: ArrayLike<number>, k: number): number[] {
  const seen = new Uint8Array(k);
  for (let i = 0; i < yTrue.length; i++) seen[yTrue[i] as number] = 1;
  const out: number[] = [];
  for (let c = 0; c < k; c++) if (seen[c] === 1) out.push(c);
  return out;
}

/** Binary AUC of `scores` for rows where `positive` holds; ties earn half credit. */
export function binaryAuc(
  scores: ArrayLike<number>,
  positive: (row: number) => boolean,
  weights?: ArrayLike<number>,
): number {
  return aucFromSweep(thresholdSweep(scores, positive, weights));
}

/** scikit-learn's average_precision_score of one binary problem. */
export function averagePrecision(
  scores: ArrayLike<number>,
  positive: (row: number) => boolean,
  weights?: ArrayLike<number>,
): number {
  return averagePrecisionFromSweep(thresholdSweep(scores, positive, weights));
}

/**
 * Azure's norm_macro_recall: the arg-max over the scored columns, the mean recall over the labels
 * of the resulting confusion matrix, then max(0, (mean - R) / (1 - R)). A label that is predicted
 * but absent from y_true makes the mean NaN, and Python's max(0.0, nan) turns that into 0.
 */
function normMacroRecall(input: ClassificationInput, present: readonly number[]): number {
  const k = input.proba.cols;
  const columns = k === 2 ? [0, 1] : present;
  const yPred = argmaxRows(input.proba, columns);
  const pc = perClassCounts(input.yTrue, yPred, k, input.weights);
  let total = 0;
  for (const c of pc.labels) total += pc.support[c] as number;
  if (total === 0) return Number.NaN;
  let sum = 0;
  for (const c of pc.labels) sum += (pc.tp[c] as number) / (pc.support[c] as number);
  const meanRecall = sum / pc.labels.length;
  const r = 1 / columns.length;
  const value = (meanRecall - r) / (1 - r);
  return value > 0 ? value : 0;
}

/** log_loss with scikit-learn's clipping to [eps, 1 - eps] (float64 eps) and row renormalization. */
export function logLoss(yTrue: ArrayLike<number>, proba: Matrix, weights?: ArrayLike<number>): number {
  const eps = Number.EPSILON;
  const k = proba.cols;
  let loss = 0;
  let wtotal = 0;
  for (let i = 0; i < proba.rows; i++) {
    let rowSum = 0;
    for (let c = 0; c < k; c++) rowSum += Math.min(1 - eps, Math.max(eps, proba.data[i * k + c] as number));
    const t = yTrue[i] as number;
    const p = Math.min(1 - eps, Math.max(eps, proba.data[i * k + t] as number)) / rowSum;
    const w = weights === undefined ? 1 : (weights[i] as number);
    loss -= w * Math.log(p);
    wtotal += w;
  }
  return loss / wtotal;
}

/** scikit-learn's multiclass Matthews correlation from the (weighted) confusion matrix. */
export function matthewsCorrelation(cm: Matrix): number {
  const k = cm.rows;
  let s = 0;
  let correct = 0;
  let sumPt = 0;
  let sumP2 = 0;
  let sumT2 = 0;
  for (let c = 0; c < k; c++) {
    let t = 0;
    let p = 0;
    for (let j = 0; j < k; j++) {
      t += cm.data[c * k + j] as number;
      p += cm.data[j * k + c] as number;
    }
    correct += cm.data[c * k + c] as number;
    s += t;
    sumPt += p * t;
    sumP2 += p * p;
    sumT2 += t * t;
  }
  const denom = Math.sqrt((s * s - sumP2) * (s * s - sumT2));
  return denom > 0 ? (correct * s - sumPt) / denom : 0;
}

/** Every classification metric of ClassificationMetricName, Azure-style. */
export function classificationMetrics(input: ClassificationInput): Record<ClassificationMetricName, number> {
  checkClassificationInput(input);
  const { yTrue, proba, weights } = input;
  const k = proba.cols;
  const n = yTrue.length;
  const yPred = argmaxRows(proba);
  const pc = perClassCounts(yTrue, yPred, k, weights);
  const present = classesPresent(yTrue, k);

  let correct = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const w = weights === undefined ? 1 : (weights[i] as number);
    total += w;
    if (yTrue[i] === yPred[i]) correct += w;
  }
  const accuracy = ratio(correct, total);

  // Azure's weighted_accuracy: each row weighs the share of its true class in y_true (counts).
  const classCount = new Float64Array(k);
  for (let i = 0; i < n; i++) classCount[yTrue[i] as number] = (classCount[yTrue[i] as number] as number) + 1;
  let waCorrect = 0;
  let waTotal = 0;
  for (let i = 0; i < n; i++) {
    const w = (classCount[yTrue[i] as number] as number) / n;
    waTotal += w;
    if (yTrue[i] === yPred[i]) waCorrect += w;
  }

  const precision = averaged(pc, (c) => ratio(pc.tp[c] as number, pc.predicted[c] as number));
  const recall = averaged(pc, (c) => ratio(pc.tp[c] as number, pc.support[c] as number));
  const f1 = averaged(pc, (c) =>
    ratio(2 * (pc.tp[c] as number), (pc.support[c] as number) + (pc.predicted[c] as number)),
  );

  // With one class in y_true, Azure refuses class-averaged AUC; we report NaN.
  const aucDefined = present.length >= 2;
  const columns = new Map<number, Float64Array>();
  const col = (c: number): Float64Array => {
    let v = columns.get(c);
    if (v === undefined) {
      v = columnOf(proba, c);
      columns.set(c, v);
    }
    return v;
  };
  const auc = aucDefined
    ? classAveragedScore(input, present, (c) => binaryAuc(col(c), (i) => yTrue[i] === c, weights))
    : { macro: Number.NaN, weighted: Number.NaN };
  const ap = classAveragedScore(input, present, (c) => averagePrecision(col(c), (i) => yTrue[i] === c, weights));

  // Micro: every (row, class) cell of the one-hot y_true against the probability matrix.
  let pooledWeights: Float64Array | undefined;
  if (weights !== undefined) {
    pooledWeights = new Float64Array(n * k);
    for (let i = 0; i < n; i++) pooledWeights.fill(weights[i] as number, i * k, (i + 1) * k);
  }
  const microPositive = (cell: number): boolean => yTrue[Math.floor(cell / k)] === cell % k;
  const microSweep = thresholdSweep(proba.data, microPositive, pooledWeights);

  return {
    accuracy,
    AUC_macro: auc.macro,
    AUC_micro: aucFromSweep(microSweep),
    AUC_weighted: auc.weighted,
    average_precision_score_macro: ap.macro,
    average_precision_score_micro: averagePrecisionFromSweep(microSweep),
    average_precision_score_weighted: ap.weighted,
    balanced_accuracy: recall.macro,
    f1_score_macro: f1.macro,
    // Single-label micro precision, recall and F1 all equal accuracy.
    f1_score_micro: accuracy,
    f1_score_weighted: f1.weighted,
    log_loss: logLoss(yTrue, proba, weights),
    matthews_correlation: matthewsCorrelation(confusionMatrix(yTrue, yPred, k, weights)),
    norm_macro_recall: normMacroRecall(input, present),
    precision_score_macro: precision.macro,
    precision_score_micro: accuracy,
    precision_score_weighted: precision.weighted,
    recall_score_macro: recall.macro,
    recall_score_micro: accuracy,
    recall_score_weighted: recall.weighted,
    weighted_accuracy: ratio(waCorrect, waTotal),
  };
}

// ---------------------------------------------------------------------------------------------
// Regression and forecasting

export interface RegressionInput {
  yTrue: ArrayLike<number>;
  yPred: ArrayLike<number>;
  /** Sample weights; median errors, MAPE and Spearman ignore them, as Azure does. */
  weights?: ArrayLike<number>;
  /**
   * The target range for the normalized errors. Azure passes the range of the whole dataset's
   * target; without these, the range of y_true is used.
   */
  yMin?: number;
  yMax?: number;
}

/** Ranks 1..n with ties given their average rank (scipy's rankdata 'average'). */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (values[a] as number) - (values[b] as number));
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && values[order[j + 1] as number] === values[order[i] as number]) j++;
    const rank = (i + j) / 2 + 1;
    for (let m = i; m <= j; m++) ranks[order[m] as number] = rank;
    i = j + 1;
  }
  return ranks;
}

export function pearsonCorrelation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i] as number;
    mb += b[i] as number;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = (a[i] as number) - ma;
    const db = (b[i] as number) - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** Spearman's rho (Pearson on average ranks); Azure's worst value, -1, when either side is constant. */
export function spearmanCorrelation(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  if (isConstant(yTrue) || isConstant(yPred)) return -1;
  const rho = pearsonCorrelation(averageRanks(yTrue), averageRanks(yPred));
  return Math.max(-1, Math.min(1, rho));
}

function isConstant(v: ArrayLike<number>): boolean {
  for (let i = 1; i < v.length; i++) if (v[i] !== v[0]) return false;
  return true;
}

function median(values: Float64Array): number {
  const s = Float64Array.from(values).sort();
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Azure's MAPE, in percent: rows whose actual is NaN or (numpy-)close to 0 are skipped; NaN if none remain. */
export function meanAbsolutePercentageError(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i] as number;
    if (Number.isNaN(t) || Math.abs(t) <= 1e-8) continue;
    sum += Math.abs((t - (yPred[i] as number)) / t);
    count++;
  }
  return count > 0 ? (100 * sum) / count : Number.NaN;
}

const clip = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

function checkRegressionInput({ yTrue, yPred, weights }: RegressionInput): void {
  if (yPred.length !== yTrue.length)
    throw new RangeError(`yPred has ${yPred.length} entries; yTrue has ${yTrue.length}`);
  if (yTrue.length === 0) throw new RangeError('yTrue is empty');
  if (weights !== undefined) {
    if (weights.length !== yTrue.length)
      throw new RangeError(`weights has ${weights.length} entries; expected ${yTrue.length}`);
    for (let i = 0; i < weights.length; i++) {
      const w = weights[i] as number;
      if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`weights[${i}] = ${w} must be finite and >= 0`);
    }
  }
}

/** Every regression/forecasting metric of RegressionMetricName, Azure-style. */
export function regressionMetrics(input: RegressionInput): Record<RegressionMetricName, number> {
  checkRegressionInput(input);
  const { yTrue, yPred, weights } = input;
  const n = yTrue.length;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    lo = Math.min(lo, yTrue[i] as number);
    hi = Math.max(hi, yTrue[i] as number);
  }
  const yMin = input.yMin ?? lo;
  const yMax = input.yMax ?? hi;

  let wTotal = 0;
  let wMeanTrue = 0;
  let wMeanRes = 0;
  let hasNegatives = false;
  for (let i = 0; i < n; i++) {
    const w = weights === undefined ? 1 : (weights[i] as number);
    wTotal += w;
    wMeanTrue += w * (yTrue[i] as number);
    wMeanRes += w * ((yTrue[i] as number) - (yPred[i] as number));
    if ((yTrue[i] as number) < 0 || (yPred[i] as number) < 0) hasNegatives = true;
  }
  wMeanTrue /= wTotal;
  wMeanRes /= wTotal;
  let sse = 0;
  let sae = 0;
  let sst = 0;
  let sresVar = 0;
  let ssle = 0;
  const absErrors = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const w = weights === undefined ? 1 : (weights[i] as number);
    const t = yTrue[i] as number;
    const r = t - (yPred[i] as number);
    sse += w * r * r;
    sae += w * Math.abs(r);
    sst += w * (t - wMeanTrue) ** 2;
    sresVar += w * (r - wMeanRes) ** 2;
    if (!hasNegatives) ssle += w * (Math.log1p(t) - Math.log1p(yPred[i] as number)) ** 2;
    absErrors[i] = Math.abs(r);
  }
  const rmse = Math.sqrt(sse / wTotal);
  const mae = sae / wTotal;
  const medae = median(absErrors);
  const rmsle = hasNegatives ? Number.NaN : Math.sqrt(ssle / wTotal);

  // scikit-learn's force_finite: a constant y_true scores 1 if predicted exactly, else 0.
  const finiteRatio = (num: number, den: number): number => (den !== 0 ? 1 - num / den : num === 0 ? 1 : 0);
  let r2: number;
  if (n === 1) r2 = yTrue[0] === yPred[0] ? 1 : 0;
  else r2 = clip(finiteRatio(sse, sst), -1, 1);
  const explainedVariance = finiteRatio(sresVar, sst);

  let exact = true;
  for (let i = 0; i < n && exact; i++) exact = yTrue[i] === yPred[i];
  const normalized = (value: number, range: number): number => {
    if (yMin === yMax) return exact ? 0 : 1;
    if (!Number.isFinite(value)) return 1;
    return clip(value / Math.abs(range), 0, 1);
  };

  return {
    explained_variance: explainedVariance,
    mean_absolute_error: mae,
    mean_absolute_percentage_error: meanAbsolutePercentageError(yTrue, yPred),
    median_absolute_error: medae,
    normalized_mean_absolute_error: normalized(mae, yMax - yMin),
    normalized_median_absolute_error: normalized(medae, yMax - yMin),
    normalized_root_mean_squared_error: normalized(rmse, yMax - yMin),
    normalized_root_mean_squared_log_error: hasNegatives
      ? Number.NaN
      : normalized(rmsle, Math.log1p(yMax) - Math.log1p(yMin)),
    r2_score: r2,
    root_mean_squared_error: rmse,
    root_mean_squared_log_error: rmsle,
    spearman_correlation: spearmanCorrelation(yTrue, yPred),
  };
}
