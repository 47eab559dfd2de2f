/**
 * One AutoML trial: the job's featurizer fitted once on every training row (deterministic, so each
 * trial gets the same one; target encoding is out-of-fold inside it), the algorithm cross-validated
 * on the featurized rows (or scored on the one validation split), its out-of-fold predictions kept
 * for the ensembles. The trial's model is its fold bag when it was cross-validated and its
 * algorithm gains from it (bagsFolds): the average of the folds' models; otherwise the model refit
 * on every row.
 */
import { availableParallelism } from 'node:os';
import { classificationMetrics, encodeLabels, regressionMetrics } from '../metrics.js';
import { AveragedModel } from '../models/averaged.js';
import { histGradientBoostingTrainer } from '../models/gbm.js';
import type { FittedModel, Matrix } from '../types.js';
import { algorithmEntry, keepsFoldBag } from './algorithms.js';
import { featurizeDataset } from './dataset.js';
import { alignedProbabilities, toFloat32Values } from './pipeline.js';
import type { FittedPipeline, PipelinePrediction, PreparedDataset, TrialConfig } from './types.js';

export interface TrialOutcome {
  config: TrialConfig;
  /** Azure metric names (metrics.ts), each the mean over the folds (NaN folds left out). */
  metrics: Record<string, number>;
  /** The primary metric. */
  score: number;
  /**
   * The standard error of `score`: the folds' standard deviation over √folds (NaN with fewer than
   * two scored folds): the scale on which the one-standard-error rule (selection.ts) compares scores.
   */
  standardError: number;
  /**
   * Out-of-fold predictions over every row of `data.features`: regression values, or
   * classification probabilities row-major [rows, classes] (data.classes order). Rows that no
   * fold validates on hold NaN.
   */
  oof: Float64Array;
  /** The featurizer and the fold bag, or the model refit on every row. */
  pipeline: FittedPipeline;
  seconds: number;
}

/** Rows `rows` of X (a new matrix). */
export function takeRows(X: Matrix, rows: ArrayLike<number>): Matrix {
  const data = new Float64Array(rows.length * X.cols);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i] as number;
    data.set(X.data.subarray(r * X.cols, (r + 1) * X.cols), i * X.cols);
  }
  return { rows: rows.length, cols: X.cols, data };
}

function take<T extends Float64Array | string[]>(values: T, rows: ArrayLike<number>): T {
  if (values instanceof Float64Array)
    return Float64Array.from({ length: rows.length }, (_, i) => values[rows[i] as number] as number) as T;
  return Array.from({ length: rows.length }, (_, i) => values[rows[i] as number] as string) as T;
}

/**
 * Azure's metrics of predictions on rows `rows` (default: all) of `data.features`: probabilities
 * (classification, [rows of data, classes]) or predictions (regression), indexed by dataset row.
 * Normalized regression errors use the dataset's target range (yMin, yMax).
 */
export function scorePredictions(
  data: PreparedDataset,
  pred: PipelinePrediction,
  rows?: ArrayLike<number>,
): Record<string, number> {
  const n = data.y.length;
  const index = rows ?? Int32Array.from({ length: n }, (_, i) => i);
  const weights = data.weights === undefined ? undefined : take(data.weights, index);
  if (data.task === 'classification') {
    const classes = data.classes ?? [];
    const probs = pred.probabilities;
    if (probs === undefined) throw new RangeError('classification scores need probabilities');
    const k = classes.length;
    if (probs.length !== n * k) throw new RangeError(`probabilities has ${probs.length} values; expected ${n} × ${k}`);
    const proba = takeRows({ rows: n, cols: k, data: probs }, index);
    const yTrue = encodeLabels(take(data.y as string[], index), classes);
    return { ...classificationMetrics(weights === undefined ? { yTrue, proba } : { yTrue, proba, weights }) };
  }
  const prediction = pred.prediction;
  if (prediction === undefined) throw new RangeError('regression scores need predictions');
  if (prediction.length !== n) throw new RangeError(`prediction has ${prediction.length} values; expected ${n}`);
  const input = {
    yTrue: take(data.y as Float64Array, index),
    yPred: take(prediction, index),
    ...(weights === undefined ? {} : { weights }),
    ...(data.yMin === undefined || data.yMax === undefined ? {} : { yMin: data.yMin, yMax: data.yMax }),
  };
  return { ...regressionMetrics(input) };
}

function meanOver(folds: readonly Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  const names = new Set(folds.flatMap((f) => Object.keys(f)));
  for (const name of names) {
    let sum = 0;
    let count = 0;
    for (const f of folds) {
      const v = f[name];
      if (v !== undefined && Number.isFinite(v)) {
        sum += v;
        count++;
      }
    }
    out[name] = count > 0 ? sum / count : Number.NaN;
  }
  return out;
}

/** The standard error of the mean of `name` over the folds that scored it (NaN below two). */
function standardErrorOver(folds: readonly Record<string, number>[], name: string): number {
  const values = folds.map((f) => f[name]).filter((v): v is number => v !== undefined && Number.isFinite(v));
  if (values.length < 2) return Number.NaN;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1);
  return Math.sqrt(variance / values.length);
}

/**
 * Metrics of out-of-fold predictions as a trial reports them: each fold's validation rows scored
 * on their own, then the mean over the folds (so that ensembles and trials compare alike).
 */
export function foldMeanMetrics(data: PreparedDataset, pred: PipelinePrediction): Record<string, number> {
  return meanOver(data.folds.map((fold) => scorePredictions(data, pred, fold.validation)));
}

/** Fits `config` on `rows` of the featurized X (default: every row), with the job's seed. */
export function fitOnRows(data: PreparedDataset, X: Matrix, config: TrialConfig, rows?: Int32Array): FittedModel {
  const entry = algorithmEntry(data.task, config.algorithm);
  const seed = data.settings.seed;
  // limits.max_cores_per_trial: boosting builds its histograms on that many threads; the model is
  // the same for any count, so it is not a hyperparameter of the trial.
  const cores = data.settings.coresPerTrial;
  const params =
    cores === undefined || entry.trainer !== histGradientBoostingTrainer.name
      ? config.params
      : { ...config.params, threads: cores === -1 ? availableParallelism() : cores };
  if (rows === undefined) {
    return entry.fit(X, data.y, params, data.weights === undefined ? { seed } : { seed, weights: data.weights });
  }
  const weights = data.weights === undefined ? undefined : take(data.weights, rows);
  return entry.fit(takeRows(X, rows), take(data.y, rows), params, weights === undefined ? { seed } : { seed, weights });
}

/** Whether a trial of `config` on `data` keeps its fold bag (algorithms.ts keepsFoldBag). */
export function bagsFolds(data: PreparedDataset, config: TrialConfig): boolean {
  return keepsFoldBag(algorithmEntry(data.task, config.algorithm), data.folds.length);
}

/**
 * The fold bag: the average of models fitted on the training rows of folds that cover every row
 * (two or more); for classification, only when every fold model knows every class. Undefined
 * otherwise.
 */
export function foldBag(data: PreparedDataset, models: readonly FittedModel[]): FittedModel | undefined {
  if (models.length < 2) return undefined;
  if (data.task === 'classification') {
    const classes = data.classes ?? [];
    const knowsAll = (m: FittedModel): boolean =>
      m.predictProba !== undefined &&
      m.classes !== undefined &&
      m.classes.length === classes.length &&
      m.classes.every((c, i) => c === classes[i]);
    if (!models.every(knowsAll)) return undefined;
  }
  return new AveragedModel(models);
}

/** Runs one trial; a trainer's error (bad parameters, data it cannot take) propagates. */
export function runTrial(data: PreparedDataset, config: TrialConfig): TrialOutcome {
  const started = performance.now();
  const { featurizer, train } = featurizeDataset(data);
  const X = toFloat32Values(train);
  const n = X.rows;
  const classes = data.classes;
  const width = data.task === 'classification' ? (classes ?? []).length : 1;
  const oof = new Float64Array(n * width).fill(Number.NaN);

  const foldMetrics: Record<string, number>[] = [];
  const bag = bagsFolds(data, config);
  const foldModels: FittedModel[] = [];
  for (const fold of data.folds) {
    const model = fitOnRows(data, X, config, fold.train);
    if (bag) foldModels.push(model);
    const Xv = takeRows(X, fold.validation);
    if (data.task === 'classification') {
      const p = alignedProbabilities(model, Xv, classes ?? []);
      fold.validation.forEach((r, i) => oof.set(p.subarray(i * width, (i + 1) * width), r * width));
      foldMetrics.push(scorePredictions(data, { probabilities: oof }, fold.validation));
    } else {
      const p = model.predict(Xv);
      fold.validation.forEach((r, i) => (oof[r] = p[i] as number));
      foldMetrics.push(scorePredictions(data, { prediction: oof }, fold.validation));
    }
  }
  const metrics = meanOver(foldMetrics);
  const model = (bag ? foldBag(data, foldModels) : undefined) ?? fitOnRows(data, X, config);
  const pipeline: FittedPipeline = {
    task: data.task,
    featurizer,
    head: { kind: 'single', config, model },
  };
  if (classes !== undefined) pipeline.classes = classes;
  return {
    config,
    metrics,
    score: metrics[data.settings.primaryMetric] ?? Number.NaN,
    standardError: standardErrorOver(foldMetrics, data.settings.primaryMetric),
    oof,
    pipeline,
    seconds: (performance.now() - started) / 1000,
  };
}
