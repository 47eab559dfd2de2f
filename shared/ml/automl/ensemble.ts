/**
 * The two AutoML ensembles, built from the trials' out-of-fold (OOF) predictions alone: no member
 * is refitted here.
 *
 * - Vote: Caruana et al. (2004) greedy ensemble selection with replacement. Start from the best
 *   single model; each round adds the candidate whose inclusion scores best (a candidate may be
 *   added again, which raises its weight); the weights are the pick counts of the best-scoring
 *   round. `iterations` counts every pick, the first included, so weights are multiples of
 *   1/iterations (Azure's `ensemble_iterations`, default 15).
 * - Stack: a linear meta-learner on the members' OOF predictions side by side (member 0's columns,
 *   then member 1's, ...: the order the pipeline exporter concatenates member outputs in). Its
 *   score comes from an inner k-fold CV over those rows, so the stack is judged on rows its meta
 *   never saw; then the meta is refitted on every row.
 *
 * OOF format: regression, one prediction per row (Float64Array [n]); classification, row-major
 * probabilities [n, k] whose columns follow `classes`. Rows that were never validated hold NaN and
 * are left out of every score and fit; when several OOFs are combined, a row counts only if every
 * one of them has it.
 */
import { ValidationError } from '../../errors.js';
import {
  CLASSIFICATION_METRIC_NAMES,
  REGRESSION_METRIC_NAMES,
  classificationMetrics,
  encodeLabels,
  isBetter,
  regressionMetrics,
  type MetricName,
} from '../metrics.js';
import { compareLabels } from '../models/class-labels.js';
import {
  LinearRegressionModel,
  elasticNetTrainer,
  logisticRegressionTrainer,
  type ElasticNetParams,
  type LogisticRegressionParams,
} from '../models/linear.js';
import { histGradientBoostingTrainer, type GradientBoostingParams } from '../models/gbm.js';
import type { FittedModel, Matrix } from '../types.js';
import { kFoldSplits } from '../validation.js';
import type { MetaLearnerSpec, PreparedDataset, TabularTask, TrialConfig } from './types.js';

/** The target the OOF predictions are scored against (a PreparedDataset fits this shape). */
export interface OofTarget {
  task: TabularTask;
  /** Regression: numbers; classification: labels, each one of `classes`. */
  y: Float64Array | readonly string[];
  /** Classification: the probability columns' labels (default: y's labels in compareLabels order). */
  classes?: readonly string[];
  weights?: Float64Array;
  /** Regression: the training target's range, for the normalized errors. */
  yMin?: number;
  yMax?: number;
}

export type OofMetrics = Readonly<Partial<Record<MetricName, number>>>;

/**
 * The target of `data`'s OOF predictions; with `rows`, the target of predictions on other rows
 * (a holdout's labels and weights), scored with `data`'s classes and target range.
 */
export function oofTarget(
  data: PreparedDataset,
  rows?: { y: Float64Array | readonly string[]; weights?: Float64Array },
): OofTarget {
  const weights = rows === undefined ? data.weights : rows.weights;
  return {
    task: data.task,
    y: rows === undefined ? data.y : rows.y,
    ...(data.classes === undefined ? {} : { classes: data.classes }),
    ...(weights === undefined ? {} : { weights }),
    ...(data.yMin === undefined ? {} : { yMin: data.yMin }),
    ...(data.yMax === undefined ? {} : { yMax: data.yMax }),
  };
}

export interface VoteOptions {
  /** Picks, the initial best model included (default 15, Azure's ensemble_iterations). */
  iterations?: number;
  /** Most distinct candidates with a non-zero weight (default: no limit). */
  maxMembers?: number;
}

export interface VoteEnsemble {
  /** One weight per candidate, in the candidates' order; they sum to 1 and may be 0. */
  weights: number[];
  /** The metric of the weighted average on the rows every candidate predicted. */
  score: number;
  /** The weighted average's OOF predictions (NaN on rows some candidate lacks). */
  oof: Float64Array;
}

export interface StackOptions {
  seed: number;
  metric: MetricName;
  /** Inner CV folds over the OOF rows, for the stack's own score (default 5). */
  folds?: number;
  /** training.stack_ensemble_settings: Azure's meta-learner type and k_wargs (default: Tessera's, below). */
  metaLearner?: MetaLearnerSpec;
}

type MetaKind = 'logistic' | 'elasticnet' | 'linear' | 'boosting';

/**
 * The meta-learners Azure ML names for stack_meta_learner_type, by task, and what Tessera fits for
 * each: its logistic regression, its elastic net on the standardized target (LinearRegression: no
 * penalty), or its histogram gradient boosting (LightGBM). A CV type picks its penalty (C or
 * alpha) from CV_GRIDS by the stack's inner cross-validation score, as scikit-learn's
 * LogisticRegressionCV and ElasticNetCV do by theirs.
 */
export const META_LEARNER_TYPES: Readonly<
  Record<TabularTask, Readonly<Record<string, { kind: MetaKind; cv: boolean }>>>
> = {
  classification: {
    LogisticRegression: { kind: 'logistic', cv: false },
    LogisticRegressionCV: { kind: 'logistic', cv: true },
    LightGBMClassifier: { kind: 'boosting', cv: false },
  },
  regression: {
    ElasticNet: { kind: 'elasticnet', cv: false },
    ElasticNetCV: { kind: 'elasticnet', cv: true },
    LinearRegression: { kind: 'linear', cv: false },
    LightGBMRegressor: { kind: 'boosting', cv: false },
  },
};

/** The k_wargs each meta-learner takes (scikit-learn's and LightGBM's names), with their ranges. */
export const META_LEARNER_KWARGS: Readonly<
  Record<MetaKind, Readonly<Record<string, { min: number; max: number; integer?: boolean }>>>
> = {
  logistic: { C: { min: Number.MIN_VALUE, max: Number.MAX_VALUE } },
  elasticnet: { alpha: { min: 0, max: Number.MAX_VALUE }, l1_ratio: { min: 0, max: 1 } },
  linear: {},
  boosting: {
    n_estimators: { min: 1, max: 10_000, integer: true },
    learning_rate: { min: Number.MIN_VALUE, max: 1 },
    num_leaves: { min: 2, max: 1_024, integer: true },
    min_child_samples: { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true },
  },
};

/** The penalties a CV meta-learner chooses from (log-spaced, as scikit-learn's defaults are). */
const CV_GRIDS: Readonly<Record<'logistic' | 'elasticnet', { key: string; values: readonly number[] }>> = {
  logistic: { key: 'C', values: [1e-4, 1e-3, 1e-2, 0.1, 1, 10, 100, 1e3, 1e4] },
  elasticnet: { key: 'alpha', values: [1e-4, 1e-3, 1e-2, 0.1, 1] },
};

/** A meta-learner to fit: its kind and its parameters by Azure's (scikit-learn's, LightGBM's) names. */
interface MetaChoice {
  kind: MetaKind;
  params: Record<string, number>;
}

export interface StackEnsemble {
  /** Fitted on every scored row; reads [rows, members·k] (classification) or [rows, members]. */
  meta: FittedModel;
  metaConfig: TrialConfig;
  /** The metric of `oof`. */
  score: number;
  /** The stack's own OOF predictions from the inner CV (NaN on rows some member lacks). */
  oof: Float64Array;
}

/**
 * The meta-learners. Azure's defaults are LogisticRegressionCV and ElasticNetCV; Tessera uses one
 * fixed, light penalty instead of a CV over penalties, so the inner CV scores exactly the model that
 * ships. Classification reads every class's probability of every member (k columns each, also for
 * two classes, where one of each pair is redundant and the L2 penalty splits the weight between
 * them): the exporter then concatenates the members' probability outputs as they are. Regression
 * fits on the target standardized (so the penalty means the same for a target in cents or in
 * millions) and the fitted model is mapped back to the target's units.
 */
const LOGISTIC_META = { C: 1, penalty: 'l2' } as const satisfies LogisticRegressionParams;
/** On the standardized target: a light penalty, close to least squares but stable when members agree. */
const ELASTIC_NET_META = { alpha: 0.01, l1Ratio: 0.5 } as const satisfies ElasticNetParams;

/** What the manifest records of the fitted meta-learner: its algorithm and its parameters. */
function metaConfig(task: TabularTask, choice: MetaChoice | undefined): TrialConfig {
  if (choice === undefined) {
    return task === 'classification'
      ? { algorithm: 'LogisticRegression', params: { ...LOGISTIC_META } }
      : { algorithm: 'ElasticNet', params: { ...ELASTIC_NET_META, standardizeTarget: true } };
  }
  switch (choice.kind) {
    case 'logistic':
      return { algorithm: 'LogisticRegression', params: { ...logisticParams(choice.params) } };
    case 'elasticnet':
    case 'linear':
      return { algorithm: 'ElasticNet', params: { ...elasticNetParams(choice), standardizeTarget: true } };
    case 'boosting':
      return { algorithm: 'LightGBM', params: { ...boostingParams(choice.params) } };
  }
}

function logisticParams(p: Record<string, number>): LogisticRegressionParams {
  return { ...LOGISTIC_META, ...(p.C === undefined ? {} : { C: p.C }) };
}

function elasticNetParams(choice: MetaChoice): ElasticNetParams {
  if (choice.kind === 'linear') return { alpha: 0, l1Ratio: 0 };
  const p = choice.params;
  return {
    ...ELASTIC_NET_META,
    ...(p.alpha === undefined ? {} : { alpha: p.alpha }),
    ...(p.l1_ratio === undefined ? {} : { l1Ratio: p.l1_ratio }),
  };
}

/** LightGBM's defaults, without early stopping (the meta-learner sees few columns and must be deterministic). */
function boostingParams(p: Record<string, number>): GradientBoostingParams {
  return {
    nEstimators: p.n_estimators ?? 100,
    learningRate: p.learning_rate ?? 0.1,
    numLeaves: p.num_leaves ?? 31,
    minChildSamples: p.min_child_samples ?? 20,
    earlyStopping: false,
  };
}

/** The candidate meta-learners of a spec: one, or one per CV_GRIDS value for a CV type. */
function metaCandidates(task: TabularTask, spec: MetaLearnerSpec | undefined): (MetaChoice | undefined)[] {
  if (spec === undefined) return [undefined];
  const entry = META_LEARNER_TYPES[task][spec.type];
  if (entry === undefined) {
    throw new RangeError(
      `stack meta-learner '${spec.type}' is not a ${task} meta-learner; use one of ${Object.keys(META_LEARNER_TYPES[task]).join(', ')}`,
    );
  }
  if (!entry.cv || (entry.kind !== 'logistic' && entry.kind !== 'elasticnet'))
    return [{ kind: entry.kind, params: spec.params }];
  const grid = CV_GRIDS[entry.kind];
  return grid.values.map((v) => ({ kind: entry.kind, params: { ...spec.params, [grid.key]: v } }));
}

const DEFAULT_ITERATIONS = 15;
const DEFAULT_STACK_FOLDS = 5;

// ---------------------------------------------------------------------------------------------
// Scoring

/** The target restricted to the rows being scored, ready for metrics.ts. */
interface ScoringRows {
  task: TabularTask;
  /** Prediction columns per row: 1 (regression) or the number of classes. */
  k: number;
  classes?: readonly string[];
  /** Indices of the scored rows into the full OOF. */
  rows: Int32Array;
  /** Regression: target values; classification: class indices. Both over `rows`. */
  yTrue: Float64Array | Int32Array;
  weights?: Float64Array;
  yMin?: number;
  yMax?: number;
}

interface CheckedTarget {
  task: TabularTask;
  n: number;
  k: number;
  classes?: readonly string[];
  yTrue: Float64Array | Int32Array;
}

function checkTarget(input: OofTarget): CheckedTarget {
  const n = input.y.length;
  if (input.weights !== undefined && input.weights.length !== n) {
    throw new RangeError(`weights has ${input.weights.length} entries; y has ${n}`);
  }
  if (input.task === 'regression') {
    if (!(input.y instanceof Float64Array)) throw new RangeError('regression needs y as a Float64Array of numbers');
    return { task: 'regression', n, k: 1, yTrue: input.y };
  }
  if (input.y instanceof Float64Array) throw new RangeError('classification needs y as string labels');
  const classes = input.classes ?? [...new Set(input.y)].sort(compareLabels);
  if (classes.length < 2) throw new RangeError(`classes must hold at least 2 labels; got ${classes.length}`);
  return { task: 'classification', n, k: classes.length, classes, yTrue: encodeLabels(input.y, classes) };
}

function checkOof(target: CheckedTarget, oof: Float64Array, name: string): void {
  if (oof.length !== target.n * target.k) {
    const shape = target.k === 1 ? `${target.n}` : `${target.n} x ${target.k}`;
    throw new RangeError(`${name} has ${oof.length} values; expected ${shape} (rows x prediction columns)`);
  }
}

function checkMetric(task: TabularTask, metric: MetricName): void {
  const names: readonly string[] = task === 'classification' ? CLASSIFICATION_METRIC_NAMES : REGRESSION_METRIC_NAMES;
  if (!names.includes(metric)) throw new RangeError(`metric '${metric}' is not a ${task} metric`);
}

/** The rows where every OOF has finite predictions in all its columns. */
function scoringRows(input: OofTarget, target: CheckedTarget, oofs: readonly Float64Array[]): ScoringRows {
  const { n, k } = target;
  const kept: number[] = [];
  for (let i = 0; i < n; i++) {
    let finite = true;
    for (const oof of oofs) {
      for (let c = 0; c < k && finite; c++) finite = Number.isFinite(oof[i * k + c] as number);
      if (!finite) break;
    }
    if (finite) kept.push(i);
  }
  if (kept.length === 0) throw new RangeError('no row has an out-of-fold prediction (every row is NaN)');
  const rows = Int32Array.from(kept);
  const yTrue = target.yTrue instanceof Int32Array ? new Int32Array(rows.length) : new Float64Array(rows.length);
  for (let r = 0; r < rows.length; r++) yTrue[r] = target.yTrue[rows[r] as number] as number;
  const out: ScoringRows = { task: target.task, k, rows, yTrue };
  if (target.classes !== undefined) out.classes = target.classes;
  if (input.weights !== undefined) out.weights = gatherRows(input.weights, rows, 1);
  if (input.yMin !== undefined) out.yMin = input.yMin;
  if (input.yMax !== undefined) out.yMax = input.yMax;
  return out;
}

/** The blocks of `width` values of the given rows, packed. */
function gatherRows(values: Float64Array, rows: Int32Array, width: number): Float64Array {
  const out = new Float64Array(rows.length * width);
  for (let r = 0; r < rows.length; r++) {
    const from = (rows[r] as number) * width;
    out.set(values.subarray(from, from + width), r * width);
  }
  return out;
}

/** Every metric of the task for packed predictions over `s.rows`. */
function metricsOf(s: ScoringRows, packed: Float64Array): OofMetrics {
  if (s.task === 'classification') {
    const proba: Matrix = { rows: s.rows.length, cols: s.k, data: packed };
    return classificationMetrics(
      s.weights === undefined ? { yTrue: s.yTrue, proba } : { yTrue: s.yTrue, proba, weights: s.weights },
    );
  }
  return regressionMetrics({
    yTrue: s.yTrue,
    yPred: packed,
    ...(s.weights === undefined ? {} : { weights: s.weights }),
    ...(s.yMin === undefined ? {} : { yMin: s.yMin }),
    ...(s.yMax === undefined ? {} : { yMax: s.yMax }),
  });
}

function scoreOf(s: ScoringRows, packed: Float64Array, metric: MetricName): number {
  return metricsOf(s, packed)[metric] as number;
}

/** Every metric of the task (metrics.ts, Azure's definitions) on the rows `oof` predicted. */
export function oofMetrics(input: OofTarget, oof: Float64Array): OofMetrics {
  const target = checkTarget(input);
  checkOof(target, oof, 'oof');
  const s = scoringRows(input, target, [oof]);
  return metricsOf(s, gatherRows(oof, s.rows, s.k));
}

/** One metric of `oof` on the rows it predicted (rows holding NaN are left out). */
export function scoreOof(input: OofTarget, oof: Float64Array, metric: MetricName): number {
  checkMetric(input.task, metric);
  return oofMetrics(input, oof)[metric] as number;
}

// ---------------------------------------------------------------------------------------------
// Vote: greedy ensemble selection

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer; got ${value}`);
  return value;
}

/**
 * Caruana's ensemble selection with replacement over `members` (OOF predictions of each candidate),
 * initialized with the best single candidate. Deterministic: ties go to the lower index, and to the
 * earlier (smaller) ensemble.
 */
export function selectVoteEnsemble(
  input: OofTarget,
  members: readonly Float64Array[],
  metric: MetricName,
  options: VoteOptions = {},
): VoteEnsemble {
  if (members.length === 0) throw new RangeError('members is empty: the vote needs at least one candidate');
  const iterations = positiveInteger(options.iterations ?? DEFAULT_ITERATIONS, 'iterations');
  const maxMembers = positiveInteger(options.maxMembers ?? members.length, 'maxMembers');
  checkMetric(input.task, metric);
  const target = checkTarget(input);
  members.forEach((m, j) => checkOof(target, m, `members[${j}]`));
  const s = scoringRows(input, target, members);
  const packed = members.map((m) => gatherRows(m, s.rows, s.k));
  const size = s.rows.length * s.k;

  const counts = new Array<number>(members.length).fill(0);
  const sum = new Float64Array(size);
  const candidate = new Float64Array(size);
  let picks = 0;
  let distinct = 0;
  let bestScore = Number.NaN;
  let bestCounts = counts.slice();

  for (let round = 0; round < iterations; round++) {
    let chosen = -1;
    let chosenScore = Number.NaN;
    for (let j = 0; j < members.length; j++) {
      if (counts[j] === 0 && distinct >= maxMembers) continue;
      const m = packed[j] as Float64Array;
      for (let t = 0; t < size; t++) candidate[t] = ((sum[t] as number) + (m[t] as number)) / (picks + 1);
      const score = scoreOf(s, candidate, metric);
      if (chosen < 0 || isBetter(metric, score, chosenScore)) {
        chosen = j;
        chosenScore = score;
      }
    }
    const m = packed[chosen] as Float64Array;
    for (let t = 0; t < size; t++) sum[t] = (sum[t] as number) + (m[t] as number);
    if (counts[chosen] === 0) distinct++;
    counts[chosen] = (counts[chosen] as number) + 1;
    picks++;
    if (round === 0 || isBetter(metric, chosenScore, bestScore)) {
      bestScore = chosenScore;
      bestCounts = counts.slice();
    }
  }

  const total = bestCounts.reduce((a, b) => a + b, 0);
  const weights = bestCounts.map((c) => c / total);
  return { weights, score: bestScore, oof: weightedAverage(members, weights) };
}

/** Σ wⱼ · membersⱼ; NaN where any candidate is NaN (0 · NaN), as the score left those rows out. */
function weightedAverage(members: readonly Float64Array[], weights: readonly number[]): Float64Array {
  const out = new Float64Array((members[0] as Float64Array).length);
  members.forEach((m, j) => {
    const w = weights[j] as number;
    for (let t = 0; t < out.length; t++) out[t] = (out[t] as number) + w * (m[t] as number);
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Stack: a linear meta-learner on the members' OOF predictions

/** The packed rows' meta features: member 0's k columns, then member 1's, ... */
function metaFeatures(packed: readonly Float64Array[], rows: number, k: number): Matrix {
  const cols = packed.length * k;
  const data = new Float64Array(rows * cols);
  packed.forEach((m, j) => {
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < k; c++) data[r * cols + j * k + c] = m[r * k + c] as number;
    }
  });
  return { rows, cols, data };
}

function subsetRows(X: Matrix, rows: Int32Array): Matrix {
  return { rows: rows.length, cols: X.cols, data: gatherRows(X.data, rows, X.cols) };
}

interface MetaTarget {
  /** Regression: values; classification: labels. Over the scored rows. */
  y: Float64Array | string[];
  weights?: Float64Array;
}

function fitMeta(
  task: TabularTask,
  choice: MetaChoice | undefined,
  X: Matrix,
  target: MetaTarget,
  seed: number,
): FittedModel {
  const options = target.weights === undefined ? { seed } : { seed, weights: target.weights };
  if (choice?.kind === 'boosting')
    return histGradientBoostingTrainer.fit(X, target.y, boostingParams(choice.params), options);
  if (task === 'classification') {
    return logisticRegressionTrainer.fit(X, target.y, logisticParams(choice?.params ?? {}), options);
  }
  const y = target.y as Float64Array;
  const { mean, sd } = weightedMeanSd(y, target.weights);
  const standardized = y.map((v) => (v - mean) / sd);
  const params = choice === undefined ? ELASTIC_NET_META : elasticNetParams(choice);
  const fitted = elasticNetTrainer.fit(X, standardized, params, options);
  if (!(fitted instanceof LinearRegressionModel)) throw new Error('elasticNetTrainer returned a non-linear model');
  // ŷ = mean + sd·(b + w·x̃) = (mean + sd·b) + (sd·w)·x̃: the same model in the target's units.
  return new LinearRegressionModel(
    fitted.scaling,
    fitted.coefficients.map((w) => Math.fround(sd * w)),
    Math.fround(mean + sd * fitted.intercept),
    fitted.fit,
  );
}

function weightedMeanSd(y: Float64Array, weights: Float64Array | undefined): { mean: number; sd: number } {
  let total = 0;
  let mean = 0;
  for (let i = 0; i < y.length; i++) {
    const w = weights === undefined ? 1 : (weights[i] as number);
    total += w;
    mean += w * (y[i] as number);
  }
  mean /= total;
  let variance = 0;
  for (let i = 0; i < y.length; i++) {
    const w = weights === undefined ? 1 : (weights[i] as number);
    variance += w * ((y[i] as number) - mean) ** 2;
  }
  const sd = Math.sqrt(variance / total);
  return { mean, sd: sd > 0 && Number.isFinite(sd) ? sd : 1 };
}

/** The meta's predictions for X in the OOF layout: class columns mapped onto `classes`. */
function metaPredict(meta: FittedModel, X: Matrix, k: number, classes?: readonly string[]): Float64Array {
  if (meta.task === 'regression') return meta.predict(X);
  if (meta.predictProba === undefined || meta.classes === undefined || classes === undefined) {
    throw new Error('the classification meta-learner has no probabilities');
  }
  const proba = meta.predictProba(X);
  // A training fold can miss a rare class; that class gets probability 0 from this fold's meta.
  const column = meta.classes.map((c) => classes.indexOf(c));
  const out = new Float64Array(X.rows * k);
  for (let r = 0; r < X.rows; r++) {
    column.forEach((to, from) => {
      out[r * k + to] = proba.data[r * proba.cols + from] as number;
    });
  }
  return out;
}

/**
 * Fits the stack's meta-learner on the members' OOF predictions, side by side in member order,
 * scores it by an inner k-fold CV over the rows every member predicted (stratified by class for
 * classification), then refits it on all of those rows. A CV meta-learner type scores each
 * penalty of its grid by that inner CV and refits the best.
 */
export function fitStackEnsemble(
  input: OofTarget,
  members: readonly Float64Array[],
  options: StackOptions,
): StackEnsemble {
  if (members.length === 0) throw new RangeError('members is empty: the stack needs at least one member');
  checkMetric(input.task, options.metric);
  const folds = positiveInteger(options.folds ?? DEFAULT_STACK_FOLDS, 'folds');
  const target = checkTarget(input);
  members.forEach((m, j) => checkOof(target, m, `members[${j}]`));
  const s = scoringRows(input, target, members);
  const n = s.rows.length;
  if (n < 2) throw new ValidationError(`the stack needs at least 2 rows with out-of-fold predictions; got ${n}`);
  const X = metaFeatures(
    members.map((m) => gatherRows(m, s.rows, s.k)),
    n,
    s.k,
  );
  const y: Float64Array | string[] =
    input.y instanceof Float64Array
      ? (s.yTrue as Float64Array)
      : Array.from(s.rows, (row) => (input.y as readonly string[])[row] as string);

  const splits = kFoldSplits(n, {
    nCrossValidations: Math.min(folds, n),
    seed: options.seed,
    ...(s.task === 'classification' ? { stratify: s.yTrue } : {}),
  });
  // Each candidate meta-learner (one, or a CV type's grid) is scored by the same inner folds; the
  // best (the first on ties) is refitted on every row.
  let best: { choice: MetaChoice | undefined; packed: Float64Array; score: number } | undefined;
  for (const choice of metaCandidates(s.task, options.metaLearner)) {
    const packed = new Float64Array(n * s.k);
    for (const split of splits) {
      const train: MetaTarget = { y: pick(y, split.train) };
      if (s.weights !== undefined) train.weights = gatherRows(s.weights, split.train, 1);
      const meta = fitMeta(s.task, choice, subsetRows(X, split.train), train, options.seed);
      const predicted = metaPredict(meta, subsetRows(X, split.validation), s.k, s.classes);
      split.validation.forEach((row, r) => packed.set(predicted.subarray(r * s.k, (r + 1) * s.k), row * s.k));
    }
    const score = scoreOf(s, packed, options.metric);
    if (best === undefined || isBetter(options.metric, score, best.score)) best = { choice, packed, score };
  }
  const chosen = best as { choice: MetaChoice | undefined; packed: Float64Array; score: number };

  const all: MetaTarget = { y };
  if (s.weights !== undefined) all.weights = s.weights;
  const meta = fitMeta(s.task, chosen.choice, X, all, options.seed);

  const oof = new Float64Array(target.n * s.k).fill(Number.NaN);
  s.rows.forEach((row, r) => oof.set(chosen.packed.subarray(r * s.k, (r + 1) * s.k), row * s.k));
  return { meta, metaConfig: metaConfig(s.task, chosen.choice), score: chosen.score, oof };
}

function pick<T extends Float64Array | string[]>(values: T, rows: Int32Array): T {
  if (values instanceof Float64Array) return gatherRows(values, rows, 1) as T;
  return Array.from(rows, (r) => values[r] as string) as T;
}
